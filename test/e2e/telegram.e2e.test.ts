/** Telegram end to end: the real grammY client in the gateway against a local fake Bot API server. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const PNG = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));

let bot: FakeBotApi;
let media: ReturnType<typeof Bun.serve>;
let gw: RunningGateway;
let stateDir: string;

async function startGateway(port = "0") {
  return spawnGateway({ target, stateDir, args: ["--port", port], env: { TELEGRAM_BOT_TOKEN: bot.token } });
}

beforeAll(async () => {
  bot = startFakeBotApi();
  media = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) =>
      new URL(req.url).pathname === "/cat.png"
        ? new Response(PNG, { headers: { "content-type": "image/png" } })
        : new Response("<html>nope</html>", { headers: { "content-type": "text/html" } }),
  });
  // The media fake listens on 127.0.0.1: internal addresses are allowed for it (media.allowPrivateUrls).
  stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, allowFrom: ["@alice"], pollTimeoutS: 2 }, media: { allowPrivateUrls: true } });
  gw = await startGateway();
});
afterAll(async () => {
  await gw.stop();
  bot.stop();
  media.stop(true);
});

describe("Telegram: polling, inbound → agent → reply", () => {
  test("health.telegram reports configured, connected and the bot's username", async () => {
    const { c } = await TestClient.connect(gw.url);
    for (let i = 0; i < 50; i++) {
      const h = (await c.request("health")).payload;
      if (h.telegram.connected) {
        expect(h.telegram).toMatchObject({ configured: true, connected: true, username: "clawdis_test_bot" });
        c.close();
        return;
      }
      await Bun.sleep(50);
    }
    throw new Error("telegram never connected");
  });

  test("an allowed sender's message starts an agent run whose reply goes back to the same chat", async () => {
    const { c } = await TestClient.connect(gw.url);
    bot.userSays("hello from telegram");
    const reply = await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "hello from telegram");
    expect(String(reply.params.chat_id)).toBe("4242");
    // The run was visible to connected clients as it streamed.
    const ev = await c.next((f) => f.event === "agent" && f.payload.data?.sessionId === "telegram:4242");
    expect(ev.payload.stream).toBe("lifecycle");
    c.close();
  });

  test("a sender not in telegram.allowFrom is logged and ignored", async () => {
    bot.userSays("let me in", { id: 999, username: "mallory" });
    await Bun.sleep(600);
    expect(bot.sent().some((x) => String(x.params.chat_id) === "999")).toBe(false);
    const log = readFileSync(join(stateDir, "logs", "gateway.log"), "utf8");
    expect(log).toContain("sender not in telegram.allowFrom");
    expect(log).not.toContain(bot.token);
  });
});

describe("Telegram: send", () => {
  test("send a text; the result carries Telegram's message id", async () => {
    const { c } = await TestClient.connect(gw.url);
    const res = await c.request("send", { to: "4242", message: "plain text", provider: "telegram", idempotencyKey: crypto.randomUUID() });
    expect(res.ok).toBe(true);
    expect(res.payload).toMatchObject({ provider: "telegram", to: "4242" });
    const call = await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "plain text");
    expect(call).toBeDefined();
    c.close();
  });

  test("send with media by URL goes out as a photo with the caption", async () => {
    const { c } = await TestClient.connect(gw.url);
    const res = await c.request("send", {
      to: "4242",
      message: "a cat",
      mediaUrl: `http://127.0.0.1:${media.port}/cat.png`,
      idempotencyKey: crypto.randomUUID(),
    });
    expect(res.ok).toBe(true);
    const call = await bot.waitFor((x) => x.method === "sendPhoto");
    expect(call.params.caption).toBe("a cat");
    // grammY uploads the file under an attach:// id, so look at the one file sent.
    expect(Object.values(call.files).map((f) => f.size)).toEqual([PNG.byteLength]);
    const bad = await c.request("send", { to: "4242", message: "x", mediaUrl: `http://127.0.0.1:${media.port}/page.html`, idempotencyKey: crypto.randomUUID() });
    expect(bad.error.code).toBe("INVALID_REQUEST");
    expect(bad.error.message).toContain("text/html");
    c.close();
  });

  test("a 429 with retry_after is honoured: the send waits and succeeds", async () => {
    const { c } = await TestClient.connect(gw.url);
    bot.rateLimits.count = 1;
    bot.rateLimits.retryAfter = 1;
    const started = Date.now();
    const res = await c.request("send", { to: "4242", message: "after 429", idempotencyKey: crypto.randomUUID() });
    expect(res.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    c.close();
  });

  test("a 409 conflict restarts polling with backoff instead of stopping", async () => {
    bot.conflicts = 2;
    bot.userSays("wake the poll"); // the next two getUpdates answer 409
    for (let i = 0; i < 200 && bot.conflicts > 0; i++) await Bun.sleep(50);
    expect(bot.conflicts).toBe(0);
    const { c } = await TestClient.connect(gw.url);
    const h = (await c.request("health")).payload;
    expect(h.telegram.lastError).toContain("409");
    // Health and the log say what a 409 means: another poller has this bot token.
    expect(h.telegram.lastError).toContain("another poller uses this bot token");
    expect(readFileSync(join(stateDir, "logs", "gateway.log"), "utf8")).toContain("another poller uses this bot token");
    c.close();
    bot.userSays("after the conflicts");
    await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "after the conflicts", 12_000);
    expect(gw.proc.exitCode).toBeNull();
    const { c: c2 } = await TestClient.connect(gw.url);
    // health.telegram.lastInboundAt: when the last message came in.
    expect((await c2.request("health")).payload.telegram.lastInboundAt).toBeGreaterThan(Date.now() - 15_000);
    c2.close();
  }, 25_000);
});

describe("Telegram: restarts", () => {
  test("a retry with the same idempotencyKey after a gateway restart does not send twice", async () => {
    const key = crypto.randomUUID();
    const { c } = await TestClient.connect(gw.url);
    const first = await c.request("send", { to: "4242", message: "exactly once", idempotencyKey: key });
    c.close();
    const port = String(gw.port);
    expect(await gw.stop()).toBe(0);
    gw = await startGateway(port);
    const { c: c2 } = await TestClient.connect(gw.url);
    const again = await c2.request("send", { to: "4242", message: "exactly once", idempotencyKey: key });
    expect(again.payload.messageId).toBe(first.payload.messageId);
    expect(bot.sent().filter((x) => x.params.text === "exactly once").length).toBe(1);
    c2.close();
  });

  test("the update offset is persisted: a restart never re-processes an update", async () => {
    const id = bot.userSays("only once please");
    await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "only once please");
    for (let i = 0; i < 50 && !bot.offsets.includes(id + 1); i++) await Bun.sleep(20);
    const port = String(gw.port);
    const before = bot.offsets.length;
    expect(await gw.stop()).toBe(0);
    gw = await startGateway(port);
    for (let i = 0; i < 100 && bot.offsets.length === before; i++) await Bun.sleep(20);
    expect(bot.offsets[before]).toBe(id + 1);
    const saved = JSON.parse(readFileSync(join(stateDir, "telegram", "offset.json"), "utf8"));
    expect(saved.offset).toBe(id + 1);
    await Bun.sleep(300);
    expect(bot.sent().filter((x) => x.params.text === "only once please").length).toBe(1);
  });
});
