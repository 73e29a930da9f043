/**
 * GatewayClient's layers: the transport never lets a late hello-ok open a socket it gave
 * up on, `waitOpen` wakes on the state change itself, `on()` is typed by event, and the
 * mirror reads both presence shapes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GatewayClient, GatewayClientError } from "../../src/client/index.ts";
import type { PresenceEntry, PresenceEvent, PresenceListEvent } from "../../src/protocol/index.ts";
import { TestClient } from "../helpers/client.ts";
import { spawnGateway, type RunningGateway } from "../helpers/gateway.ts";

type Peer = { port: number; sockets: number; hellos: number; stop: () => void };

/** A scripted gateway: answers the n-th socket's hello after `delayMs(n)` with a minimal hello-ok naming that socket. */
function scriptedPeer(delayMs: (n: number) => number): Peer {
  const peer: Peer = { port: 0, sockets: 0, hellos: 0, stop: () => server.stop(true) };
  const server = Bun.serve<{ n: number }>({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req, srv) => (srv.upgrade(req, { data: { n: ++peer.sockets } }) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      message(ws, raw) {
        const frame = JSON.parse(String(raw));
        if (frame.type === "hello") {
          peer.hellos += 1;
          const helloOk = {
            type: "hello-ok",
            protocol: 1,
            server: { version: "0", commit: "x", host: "peer", connId: `socket-${ws.data.n}` },
            features: { methods: [], events: [] },
            snapshot: { presence: [], health: { ok: true }, stateVersion: { presence: 1, health: 1 }, uptimeMs: 0 },
            policy: { maxPayload: 1 << 20, maxBufferedBytes: 1 << 20, tickIntervalMs: 30_000 },
          };
          setTimeout(() => ws.send(JSON.stringify(helloOk)), delayMs(ws.data.n));
        } else if (frame.type === "req") {
          ws.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: { via: ws.data.n } }));
        }
      },
    },
  });
  peer.port = server.port!;
  return peer;
}

/** A WebSocket whose close() takes effect late, like a runtime still flushing: frames keep arriving meanwhile. */
const SlowClosingWebSocket = class extends WebSocket {
  close(code?: number, reason?: string): void {
    setTimeout(() => super.close(code, reason), 400);
  }
} as unknown as typeof WebSocket;

describe("Transport: a socket given up on stays given up", () => {
  test("a hello-ok after the connect timeout does not open the client", async () => {
    const peer = scriptedPeer(() => 150);
    const hellos: string[] = [];
    const c = new GatewayClient({ url: `ws://127.0.0.1:${peer.port}`, connectTimeoutMs: 60, WebSocket: SlowClosingWebSocket, onHello: (h) => hellos.push(h.server.connId) });
    const err = await c.connect().catch((e) => e);
    expect(err).toBeInstanceOf(GatewayClientError);
    expect((err as GatewayClientError).kind).toBe("timeout");
    // The late hello-ok arrives (150 ms) while the socket is still closing (400 ms).
    await Bun.sleep(300);
    expect(peer.hellos).toBe(1);
    expect(hellos).toEqual([]);
    expect(c.state).toBe("connecting");
    expect(c.hello).toBeNull();
    c.close();
    peer.stop();
  });

  test("with retry, the late hello-ok of the first socket cannot race the second: one socket opens", async () => {
    const peer = scriptedPeer((n) => (n === 1 ? 150 : 0));
    const hellos: string[] = [];
    const c = new GatewayClient({
      url: `ws://127.0.0.1:${peer.port}`,
      connectTimeoutMs: 60,
      backoff: { initialMs: 200, maxMs: 200 },
      WebSocket: SlowClosingWebSocket,
      onHello: (h) => hellos.push(h.server.connId),
    });
    const hello = await c.connect({ retry: true });
    expect(hello.server.connId).toBe("socket-2");
    await Bun.sleep(300);
    expect(hellos).toEqual(["socket-2"]);
    expect(c.hello?.server.connId).toBe("socket-2");
    // Requests go over the socket that opened.
    expect(await c.request("status")).toEqual({ via: 2 } as never);
    c.close();
    peer.stop();
  });
});

describe("waitOpen and on()", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await spawnGateway({ config: { gateway: { tickIntervalMs: 200, presenceCoalesceMs: 5 } } });
  });
  afterAll(async () => {
    await gw.stop();
  });

  test("waitOpen resolves on the state change itself, before any timer runs", async () => {
    // Resolved in the very task that opened the client: before the next turn of the loop
    // (a 20 ms poll would notice only on a later one).
    let nextTurn = false;
    const c = new GatewayClient({
      url: gw.url,
      onStateChange: (s) => {
        if (s === "open") setImmediate(() => (nextTurn = true));
      },
    });
    const opened = c.waitOpen(5_000).then(() => nextTurn);
    await c.connect();
    expect(await opened).toBe(false);
    c.close();
    const t0 = Date.now();
    await expect(c.waitOpen(5_000)).rejects.toThrow("not reconnected");
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  test("on() hands each listener its event's payload type; the mirror follows either presence shape", async () => {
    for (const caps of [[], ["presence-deltas"]]) {
      const c = new GatewayClient({ url: gw.url, caps });
      await c.connect();
      const seen: (PresenceEvent | PresenceListEvent)[] = [];
      c.on("presence", (f) => void seen.push(f.payload));
      const healths: boolean[] = [];
      c.on("health", (f) => void healths.push(f.payload.ok));
      const { c: other } = await TestClient.connect(gw.url, { client: { name: "x", version: "1", platform: "linux", mode: "other", instanceId: `other-${caps.length}` } });
      const has = () => [...c.presence.values()].some((e: PresenceEntry) => e.instanceId === `other-${caps.length}`);
      for (let i = 0; i < 200 && !has(); i++) await Bun.sleep(10);
      expect(has()).toBe(true);
      expect(seen.some((p) => (caps.length === 0 ? "presence" in p : "upserted" in p))).toBe(true);
      other.close();
      for (let i = 0; i < 200 && has(); i++) await Bun.sleep(10);
      expect(has()).toBe(false);
      // A refresh reads system-presence in this client's shape.
      await c.refresh();
      expect([...c.presence.values()].some((e) => e.mode === "gateway")).toBe(true);
      c.close();
    }
  });
});
