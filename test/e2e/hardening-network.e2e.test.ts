/**
 * Issue 20 §4, §6, §10 through the compiled binary: what arrives from the network —
 * silent sockets, a stranger's hostile display name, a mediaUrl aimed inside — as an
 * attacker would send it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const ESC = "\x1b";

let gw: RunningGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

/**
 * A WebSocket upgrade from `from` that then says nothing; resolves once the upgrade is
 * answered. `closed()`: the gateway sent its close frame (or dropped the connection) —
 * a silent peer never answers the close, so some runtimes keep the TCP socket a while.
 */
function silentSocket(port: number, from: string): Promise<{ sock: Socket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port, localAddress: from });
    let closed = false;
    let buf = Buffer.alloc(0);
    let upgraded = false;
    sock.on("close", () => (closed = true));
    sock.once("error", reject);
    sock.on("connect", () => {
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
      sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!buf.subarray(0, end).toString("latin1").startsWith("HTTP/1.1 101")) return reject(new Error(buf.toString("latin1")));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve({ sock, closed: () => closed });
      }
      // The only frame a silent socket can get before hello is the server's close (opcode 8).
      if (buf.length > 0 && (buf[0]! & 0x0f) === 0x8) closed = true;
    });
  });
}

describe("One address cannot take every handshake slot (§4)", () => {
  /** 256 silent sockets from `from`, then a correct client's hello from 127.0.0.1: answered while the flood still holds slots. */
  async function floodThenHello(from: string) {
    gw = await spawnGateway({ target, config: { gateway: { token: "slots-token" }, webchat: { enabled: false } } });
    const flood = await Promise.all(Array.from({ length: 256 }, () => silentSocket(gw!.port, from)));
    const t0 = Date.now();
    const { c, ok } = await TestClient.connect(gw.url, { auth: { token: "slots-token" } });
    expect(ok.type).toBe("hello-ok");
    // The flood was still holding slots when the client came in (before the 3 s first-frame timeout).
    expect(Date.now() - t0).toBeLessThan(2_500);
    c.close();
    return { flood, t0 };
  }

  test("256 silent sockets from 127.0.0.2 leave a correct client's hello on 127.0.0.1 working", async () => {
    const { flood, t0 } = await floodThenHello("127.0.0.2");
    // Silent sockets are closed by the first-frame timeout (3 s by default), not the 10 s hello timeout.
    await until(() => flood.every((s) => s.closed()), "every silent socket closed", 8_000);
    expect(Date.now() - t0).toBeLessThan(7_000);
    for (const s of flood) s.sock.destroy();
  });

  test("256 silent sockets from 127.0.0.1 itself (another local account) leave a correct client's hello from 127.0.0.1 working", async () => {
    const { flood } = await floodThenHello("127.0.0.1");
    // It took the oldest silent socket's slot: that one was closed, the rest still wait.
    expect(flood[0]!.closed() || (await until(() => flood[0]!.closed(), "the oldest silent socket closed", 2_000))).toBe(true);
    for (const s of flood) s.sock.destroy();
  });

  test("gateway.firstFrameTimeoutMs closes a socket that sent nothing with 4000, naming the first frame", async () => {
    gw = await spawnGateway({ target, config: { gateway: { firstFrameTimeoutMs: 500 }, webchat: { enabled: false } } });
    const c = await TestClient.open(gw.url);
    const started = Date.now();
    expect(await c.closed).toEqual({ code: 4000, reason: "no first frame within 500 ms" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("Strangers' text cannot drive the owner's terminal (§6)", () => {
  let bot: FakeBotApi;
  beforeAll(() => {
    bot = startFakeBotApi();
  });
  afterAll(() => bot.stop());

  test("pairing list / approved / trace show control characters visibly; --json stays exact", async () => {
    const hostile = `Bob${ESC}[2J${ESC}]0;owned\x07${ESC}[1A\x9b2K`;
    const stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, dmPolicy: "pairing" }, ledger: { storeText: true } });
    gw = await spawnGateway({ target, stateDir, env: { TELEGRAM_BOT_TOKEN: bot.token } });
    const url = ["--url", gw.url];
    const { c } = await TestClient.connect(gw.url);
    await until(async () => (await c.request("health")).payload.telegram.connected, "telegram connected");
    bot.userSays(`hi${ESC}[31m red`, { id: 6161, username: "bob", last_name: hostile } as never);
    await until(async () => (await c.request("pairing.list")).payload.length === 1, "the pairing request");
    c.close();

    const list = await runCli(["pairing", "list", ...url], { target });
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(ESC);
    expect(list.stdout).not.toContain("\x07");
    expect(list.stdout).not.toContain("\x9b");
    expect(list.stdout).toContain("Bob\\x1b[2J\\x1b]0;owned\\x07\\x1b[1A\\x9b2K");
    const json = JSON.parse((await runCli(["pairing", "list", "--json", ...url], { target })).stdout);
    expect(json[0].name).toBe(`A ${hostile} (@bob)`);

    expect((await runCli(["pairing", "approve", "telegram", json[0].code, ...url], { target })).code).toBe(0);
    const approved = await runCli(["pairing", "approved", ...url], { target });
    expect(approved.stdout).not.toContain(ESC);
    expect(approved.stdout).toContain("Bob\\x1b[2J");

    const trace = await runCli(["gateway", "trace", "--last", "5", ...url], { target });
    expect(trace.stdout).not.toContain(ESC);
    expect(trace.stdout).toContain("hi\\x1b[31m red");
    const traceJson = JSON.parse((await runCli(["gateway", "trace", "--last", "5", "--json", ...url], { target })).stdout);
    expect(traceJson.records.some((r: { text?: string }) => r.text === `hi${ESC}[31m red`)).toBe(true);
  });
});

describe("send.mediaUrl does not reach internal addresses (§10)", () => {
  let bot: FakeBotApi;
  let media: ReturnType<typeof Bun.serve>;
  let hits = 0;
  beforeAll(() => {
    bot = startFakeBotApi();
    media = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (hits++, new Response("secret", { headers: { "content-type": "image/png" } })) });
  });
  afterAll(() => {
    bot.stop();
    media.stop(true);
  });

  test("loopback URLs in any spelling are refused with a typed error naming the rule; nothing is fetched or sent", async () => {
    const stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1 }, webchat: { enabled: false } });
    gw = await spawnGateway({ target, stateDir, env: { TELEGRAM_BOT_TOKEN: bot.token } });
    const { c } = await TestClient.connect(gw.url);
    for (const host of ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433"]) {
      const res = await c.request("send", { to: "4242", message: "x", provider: "telegram", mediaUrl: `http://${host}:${media.port}/cat.png`, idempotencyKey: crypto.randomUUID() });
      expect(res.error).toMatchObject({ code: "INVALID_REQUEST", details: { field: "params.mediaUrl", rule: "loopback" } });
      expect(res.error.message).toContain("media.allowPrivateUrls");
    }
    const meta = await c.request("send", { to: "4242", message: "x", provider: "telegram", mediaUrl: "http://169.254.169.254/latest/meta-data/", idempotencyKey: crypto.randomUUID() });
    expect(meta.error.details.rule).toBe("link-local");
    // Each refusal is a ledger record with its reason.
    const records = (await c.request("ledger.list", { direction: "outbound", limit: 50 })).payload.records;
    expect(records.filter((r: { status: string; reason?: string }) => r.status === "failed" && r.reason?.includes("refused, loopback address")).length).toBe(4);
    c.close();
    expect(hits).toBe(0);
    expect(bot.sent().filter((x) => x.method === "sendPhoto").length).toBe(0);
  });

  test("media.allowUrlHosts names a host that may be fetched (by name: the connection's own lookup is checked too)", async () => {
    const stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1 }, media: { allowUrlHosts: ["localhost"] }, webchat: { enabled: false } });
    gw = await spawnGateway({ target, stateDir, env: { TELEGRAM_BOT_TOKEN: bot.token } });
    const { c } = await TestClient.connect(gw.url);
    const before = hits;
    const res = await c.request("send", { to: "4242", message: "x", provider: "telegram", mediaUrl: `http://localhost:${media.port}/cat.png`, idempotencyKey: crypto.randomUUID() });
    expect(res.ok).toBe(true);
    expect(hits).toBe(before + 1);
    // The list names the host, not its addresses: the same server by address stays refused.
    const byIp = await c.request("send", { to: "4242", message: "x", provider: "telegram", mediaUrl: `http://127.0.0.1:${media.port}/cat.png`, idempotencyKey: crypto.randomUUID() });
    expect(byIp.error.details.rule).toBe("loopback");
    c.close();
  });
});
