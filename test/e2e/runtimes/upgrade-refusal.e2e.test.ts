/**
 * A refused WebSocket upgrade reads the same on every runtime: the route's status and its
 * text naming the fix. On Node the adapter answers the upgrade socket itself (it binds `ws`
 * sockets straight to the gateway), so it must carry the route's body, as Bun and Deno do.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { killSpawned, spawnGateway, type RunningGateway, type Target } from "../../helpers/gateway.ts";

/** Send an upgrade request with these extra headers; the whole reply, read until the server closes. */
function upgradeReply(port: number, extra: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`no close after: ${buf}`)), 10_000);
    sock.on("data", (d) => (buf += d.toString("utf8")));
    sock.on("error", reject);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(buf);
    });
    sock.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}\r\n` +
        `Sec-WebSocket-Version: 13\r\n${extra}Connection: close\r\n\r\n`,
    );
  });
}

afterAll(killSpawned);

for (const target of ["node", "binary", "deno"] as Target[]) {
  describe(`upgrade refusal on ${target}`, () => {
    let gw: RunningGateway;
    afterAll(async () => {
      await gw?.stop();
    });

    test("a foreign Origin gets 403 with the text naming gateway.allowedOrigins; an allowed one still upgrades", async () => {
      gw = await spawnGateway({ target, config: { gateway: { allowedOrigins: ["http://allowed.example"] }, webchat: { enabled: false } } });
      const refused = await upgradeReply(gw.port, "Origin: http://evil.example\r\n");
      expect(refused).toStartWith("HTTP/1.1 403");
      expect(refused).toContain("origin http://evil.example is not allowed: add it to gateway.allowedOrigins");
      const ws = new WebSocket(gw.url, { headers: { Origin: "http://allowed.example" } } as unknown as string[]);
      await new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("the allowed origin was refused"));
      });
      ws.close();
    }, 30_000);
  });
}
