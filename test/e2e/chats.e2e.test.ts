/**
 * Issue 16 through the compiled binary, the provider-independent parts: long replies as
 * ordered parts, paced sends (and a queued send that outlives a kill -9), and the
 * pairing methods and CLI. Telegram is the real grammY client against the fake Bot API.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type BotCall, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const squash = (s: string) => s.replace(/\s+/g, "");

let bot: FakeBotApi;
beforeAll(() => {
  bot = startFakeBotApi();
});
afterAll(() => bot.stop());

/** The fake's sendMessage calls to one chat (the helper records every chat together). */
const toChat = (chat: string): BotCall[] => bot.sent("sendMessage").filter((c) => String(c.params.chat_id) === chat);


// The media fake listens on 127.0.0.1: internal addresses are allowed for it (media.allowPrivateUrls).
function gateway(config: Record<string, unknown>, stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, ...config }, media: { allowPrivateUrls: true } })) {
  return spawnGateway({ target, stateDir, env: { TELEGRAM_BOT_TOKEN: bot.token } });
}

describe("Long replies (issue 16 §4)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gateway({});
  });
  afterAll(() => gw.stop());

  const long = Array.from({ length: 62 }, (_, i) => `Paragraph ${i}. ${"Some words that make a sentence. ".repeat(4).trim()}`).join("\n\n");

  test("a 9,000-character send goes out as ordered parts of ≤ 4,096, one ledger record each, one key", async () => {
    expect(long.length).toBeGreaterThan(9_000);
    const { c } = await TestClient.connect(gw.url);
    const key = crypto.randomUUID();
    const res = await c.request("send", { to: "7001", message: long, provider: "telegram", idempotencyKey: key });
    expect(res.error).toBeUndefined();
    const calls = toChat("7001");
    expect(calls.length).toBe(3);
    for (const call of calls) expect(String(call.params.text).length).toBeLessThanOrEqual(4096);
    // In order, nothing lost, each cut at a paragraph.
    expect(squash(calls.map((x) => x.params.text).join(""))).toBe(squash(long));
    for (const call of calls) expect(String(call.params.text)).toMatch(/^Paragraph \d+\./);
    expect(res.payload.messageIds.length).toBe(3);
    expect(res.payload.messageId).toBe(res.payload.messageIds[0]);

    const records = (await c.request("ledger.list", { direction: "outbound", limit: 50 })).payload.records.filter((r: any) =>
      r.idempotencyKey?.startsWith(key),
    );
    expect(records.map((r: any) => [r.idempotencyKey, r.status, r.part, r.parts]).sort()).toEqual([
      [key, "sent", 1, 3],
      [`${key}:part2`, "sent", 2, 3],
      [`${key}:part3`, "sent", 3, 3],
    ]);
    // A retry with the same key sends nothing and answers the same.
    const again = await c.request("send", { to: "7001", message: long, provider: "telegram", idempotencyKey: key });
    expect(again.payload.messageIds).toEqual(res.payload.messageIds);
    expect(toChat("7001").length).toBe(3);
    c.close();
  });

  test("with media: the caption stays within Telegram's 1,024 and the rest of the text follows as messages", async () => {
    const png = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), (ch) => ch.charCodeAt(0));
    const media = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(png, { headers: { "content-type": "image/png" } }) });
    try {
      const { c } = await TestClient.connect(gw.url);
      const text = "A caption sentence that goes on. ".repeat(60).trim();
      const res = await c.request("send", { to: "7003", message: text, mediaUrl: `http://127.0.0.1:${media.port}/cat.png`, provider: "telegram", idempotencyKey: crypto.randomUUID() });
      expect(res.error).toBeUndefined();
      const calls = bot.sent().filter((x) => String(x.params.chat_id) === "7003");
      expect(calls.map((x) => x.method)).toEqual(["sendPhoto", "sendMessage"]);
      expect(String(calls[0]!.params.caption).length).toBeLessThanOrEqual(1024);
      expect(squash(String(calls[0]!.params.caption) + String(calls[1]!.params.text))).toBe(squash(text));
      c.close();
    } finally {
      media.stop(true);
    }
  });

  test("an agent reply delivered to a chat is split the same way", async () => {
    const { c } = await TestClient.connect(gw.url);
    c.send({ type: "req", id: "a1", method: "agent", params: { message: long, to: "7002", deliver: true, idempotencyKey: crypto.randomUUID() } });
    const final = await c.next((f) => f.type === "res" && f.id === "a1" && f.payload?.status !== "accepted", 15_000);
    expect(final.payload.delivery).toMatchObject({ ok: true, provider: "telegram" });
    const calls = toChat("7002");
    expect(calls.length).toBe(3);
    expect(squash(calls.map((x) => x.params.text).join(""))).toBe(squash(long));
    c.close();
  });
});

describe("Paced sends (issue 16 §6)", () => {
  test("two sends to one chat at least perChatMinIntervalMs apart; the waiting one is queued and counted in health", async () => {
    const gw = await gateway({ pacing: { perChatMinIntervalMs: 1_500 } });
    try {
      const { c } = await TestClient.connect(gw.url);
      const [k1, k2] = [crypto.randomUUID(), crypto.randomUUID()];
      c.send({ type: "req", id: "s1", method: "send", params: { to: "7101", message: "first", provider: "telegram", idempotencyKey: k1 } });
      c.send({ type: "req", id: "s2", method: "send", params: { to: "7101", message: "second", provider: "telegram", idempotencyKey: k2 } });
      await c.next((f) => f.type === "res" && f.id === "s1");
      const health = (await c.request("health")).payload;
      expect(health.telegram.queued).toBe(1);
      const rec = (await c.request("ledger.list", { status: "queued" })).payload.records;
      expect(rec.map((r: any) => r.idempotencyKey)).toEqual([k2]);
      const second = await c.next((f) => f.type === "res" && f.id === "s2");
      expect(second.ok).toBe(true);
      const [a, b] = toChat("7101");
      expect([a!.params.text, b!.params.text]).toEqual(["first", "second"]);
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(1_500);
      // The answer came when the message was sent, not when it was queued.
      const after = (await c.request("health")).payload.telegram;
      expect(after.queued).toBe(0);
      expect(after.lastSendAt).toBeGreaterThanOrEqual(b!.at);
      c.close();
    } finally {
      await gw.stop();
    }
  });

  test("a queued send survives kill -9 and goes out once after the restart, with the same key", async () => {
    const stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, pacing: { perChatMinIntervalMs: 2_500 } } });
    const g1 = await gateway({}, stateDir);
    const { c } = await TestClient.connect(g1.url);
    const [k1, k2] = [crypto.randomUUID(), crypto.randomUUID()];
    expect((await c.request("send", { to: "7201", message: "before", provider: "telegram", idempotencyKey: k1 })).ok).toBe(true);
    c.send({ type: "req", id: "s2", method: "send", params: { to: "7201", message: "survivor", provider: "telegram", idempotencyKey: k2 } });
    await until(async () => (await c.request("ledger.list", { status: "queued" })).payload.records.length === 1, "the queued record");
    g1.proc.kill("SIGKILL");
    await g1.exited;
    expect(toChat("7201").map((x) => x.params.text)).toEqual(["before"]);

    const g2 = await gateway({}, stateDir);
    try {
      const sent = await until(() => toChat("7201").find((x) => x.params.text === "survivor"), "the queued send after restart");
      // Still paced: the gap to the send before the crash holds across the restart.
      expect(sent.at - toChat("7201")[0]!.at).toBeGreaterThanOrEqual(2_500);
      const { c: c2 } = await TestClient.connect(g2.url);
      const retry = await c2.request("send", { to: "7201", message: "survivor", provider: "telegram", idempotencyKey: k2 });
      expect(retry.ok).toBe(true);
      await Bun.sleep(300);
      expect(toChat("7201").map((x) => x.params.text)).toEqual(["before", "survivor"]);
      const rec = (await c2.request("ledger.list", { direction: "outbound" })).payload.records.find((r: any) => r.idempotencyKey === k2);
      expect(rec).toMatchObject({ status: "sent", providerMessageId: retry.payload.messageId });
      c2.close();
    } finally {
      await g2.stop();
    }
  });
});

describe("Pairing methods and CLI (issue 16 §1)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gateway({ dmPolicy: "pairing" });
  });
  afterAll(() => gw.stop());

  test("pairing.list is empty; unknown codes and bad params are typed errors", async () => {
    const { c } = await TestClient.connect(gw.url);
    expect((await c.request("pairing.list")).payload).toEqual([]);
    const unknown = await c.request("pairing.approve", { provider: "telegram", code: "ZZZZ9999" });
    expect(unknown.error).toMatchObject({ code: "INVALID_REQUEST", details: { field: "params.code", reason: "unknown" } });
    expect(unknown.error.message).toContain("clawdis pairing list");
    const rejected = await c.request("pairing.reject", { provider: "whatsapp", code: "ZZZZ9999" });
    expect(rejected.error).toMatchObject({ code: "INVALID_REQUEST", details: { reason: "unknown" } });
    const badProvider = await c.request("pairing.approve", { provider: "signal", code: "ZZZZ9999" });
    expect(badProvider.error).toMatchObject({ code: "INVALID_REQUEST", details: { field: "params.provider" } });
    c.close();
  });

  test("clawdis pairing list | approve | reject against the running gateway", async () => {
    const url = ["--url", gw.url];
    const list = await runCli(["pairing", "list", ...url], { target });
    expect(list).toMatchObject({ code: 0 });
    expect(list.stdout).toContain("no pairing requests waiting");
    const json = await runCli(["pairing", "list", "--json", ...url], { target });
    expect(JSON.parse(json.stdout)).toEqual([]);
    const approve = await runCli(["pairing", "approve", "telegram", "ZZZZ9999", ...url], { target });
    expect(approve.code).toBe(1);
    expect(approve.stderr).toContain('no pairing request with code "ZZZZ9999" for telegram');
    const reject = await runCli(["pairing", "reject", "whatsapp", "abcd2345", ...url], { target });
    expect(reject.code).toBe(1);
    const usage = await runCli(["pairing", "approve", "signal", "ZZZZ9999", ...url], { target });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("<provider>: expected whatsapp or telegram");
  });
});
