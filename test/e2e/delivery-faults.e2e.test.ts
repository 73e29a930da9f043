/**
 * Issue 21 §1–2 and issue 22 §6–7 through the compiled binary: Telegram against the fake
 * Bot API (grammY for real), the agent against the fake OpenAI-compatible server. What the
 * person in the chat sees when the model fails, when the Bot API has an outage, when a
 * send is refused, and when the host's clock steps while a reply waits its turn.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type BotCall, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

let bot: FakeBotApi;
let openai: FakeOpenAi;
beforeAll(() => {
  bot = startFakeBotApi();
  openai = startFakeOpenAi();
});
afterAll(() => {
  bot.stop();
  openai.stop();
});

/** Every sendMessage call to a chat, fault answers included (the fake answers the faults first, in order). */
const inChat = (chat: number): BotCall[] => bot.sent("sendMessage").filter((c) => String(c.params.chat_id) === String(chat));

async function gateway(cfg: Record<string, unknown>, env: Record<string, string> = {}, stateDir = tempStateDir(cfg)): Promise<RunningGateway> {
  const gw = await spawnGateway({ target, stateDir, env: { TELEGRAM_BOT_TOKEN: bot.token, OPENAI_API_KEY: "sk-test", ...env } });
  const { c } = await TestClient.connect(gw.url);
  await until(async () => (await c.request("health")).payload.telegram.connected, "telegram connected", 15_000);
  c.close();
  return gw;
}

const telegram = (extra: Record<string, unknown> = {}) => ({ apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["*"], ...extra });

/** A request whose answer may take longer than the client helper's 5 s (a send that is retried). */
async function ask(c: TestClient, method: string, params: unknown, timeoutMs: number) {
  const id = crypto.randomUUID();
  c.send({ type: "req", id, method, params });
  return c.next((f) => f.type === "res" && f.id === id, timeoutMs);
}

async function records(gw: RunningGateway, filter: Record<string, unknown> = {}) {
  const { c } = await TestClient.connect(gw.url);
  const recs = (await c.request("ledger.list", { limit: 1_000, ...filter })).payload.records;
  c.close();
  return recs as any[];
}

describe("Never silent: a failed run gets one short error reply per chat per cooldown (issue 21 §1)", () => {
  test("backend 500: exactly one error reply; a second failure within the cooldown gets none; both records end failed", async () => {
    const gw = await gateway({ telegram: telegram(), agent: { backend: "openai", openai: { baseUrl: openai.url, model: "fail" } } });
    try {
      const user = { id: 7101, username: "ada" };
      bot.userSays("what's the weather?", user);
      await until(() => inChat(7101).length === 1, "the error reply", 15_000);
      expect(inChat(7101)[0]!.params.text).toBe("Sorry, I couldn't answer that (the assistant ran into an error). Please try again in a moment.");
      bot.userSays("hello?", user);
      await until(async () => (await records(gw, { direction: "inbound" })).filter((r) => r.chat === "7101" && r.status === "failed").length === 2, "both failed", 15_000);
      await Bun.sleep(1_500);
      expect(inChat(7101).length).toBe(1);
      const inbound = (await records(gw, { direction: "inbound" })).filter((r) => r.chat === "7101");
      for (const r of inbound) expect(r.reason).toStartWith("agent run failed");
      // The reply is a send like any other: ledgered, under its own key.
      const out = (await records(gw, { direction: "outbound" })).filter((r) => r.chat === "7101");
      expect(out.map((r) => [r.status, r.idempotencyKey])).toEqual([["sent", expect.stringMatching(/^error-reply:telegram:/)]]);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  test("AGENT_TIMEOUT: exactly one error reply saying it timed out, none during the cooldown; typing stopped", async () => {
    const gw = await gateway({ telegram: telegram(), agent: { backend: "openai", timeoutMs: 1_500, openai: { baseUrl: openai.url, model: "slow" } } });
    try {
      const user = { id: 7102, username: "bob" };
      bot.userSays("tell me a story", user);
      await until(() => inChat(7102).length === 1, "the error reply", 15_000);
      expect(inChat(7102)[0]!.params.text).toBe("Sorry, I couldn't answer that (the assistant timed out). Please try again in a moment.");
      const typingAfter = () => bot.sent("sendChatAction").filter((c) => String(c.params.chat_id) === "7102" && c.at > inChat(7102)[0]!.at).length;
      bot.userSays("still there?", user);
      await until(async () => (await records(gw, { direction: "inbound" })).filter((r) => r.chat === "7102" && r.status === "failed").length === 2, "both failed", 15_000);
      const settled = typingAfter();
      await Bun.sleep(5_000); // past Telegram's 4 s typing renewal: a typing loop left running would show
      expect(typingAfter()).toBe(settled);
      expect(inChat(7102).length).toBe(1);
    } finally {
      await gw.stop();
    }
  }, 60_000);
});

describe("A Bot API outage loses nothing (issue 21 §2, issue 22 §7)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gateway({ telegram: telegram(), agent: { backend: "echo" } });
  });
  afterAll(() => gw.stop());

  test("sendMessage answers 502 twice, then 429 retry_after 2, then 200: the reply arrives exactly once; health says what Telegram answered", async () => {
    bot.sendFaults.push({ status: 502, html: true }, { status: 502, html: true }, { status: 429, description: "Too Many Requests: retry after 2", retryAfter: 2 });
    const { c } = await TestClient.connect(gw.url);
    const t0 = Date.now();
    bot.userSays("are you there?", { id: 7201, username: "cy" });
    // During the outage: health names the 502 as Telegram's answer (not a JSON parse error) and counts the waiting send.
    const during = await until(async () => {
      const h = (await c.request("health")).payload.telegram;
      return h.lastError === "Telegram answered 502 Bad Gateway" && h.retrying === 1 ? h : null;
    }, "health during the outage", 15_000);
    expect(during.lastError).not.toContain("JSON");
    await until(() => inChat(7201).some((x) => x.params.text === "are you there?" && bot.sendFaults.length === 0), "the reply", 20_000);
    await until(async () => (await records(gw, { direction: "outbound" })).some((r) => r.chat === "7201" && r.status === "sent"), "sent", 10_000);
    await Bun.sleep(1_000);
    // Four attempts reached the fake; only the last one was answered 200 (the faults came first).
    const calls = inChat(7201);
    expect(calls.length).toBe(4);
    expect(calls.every((x) => x.params.text === "are you there?")).toBe(true);
    expect(calls[3]!.at - calls[2]!.at).toBeGreaterThanOrEqual(1_950); // retry_after honoured
    expect(Date.now() - t0).toBeLessThan(20_000);
    const [out] = (await records(gw, { direction: "outbound" })).filter((r) => r.chat === "7201");
    expect(out).toMatchObject({ status: "sent", attempts: 4, lastError: "UNAVAILABLE: telegram is rate limiting sends (retry after 2 s)" });
    const [inb] = (await records(gw, { direction: "inbound" })).filter((r) => r.chat === "7201");
    expect(inb.status).toBe("replied");
    expect((await c.request("health")).payload.telegram.retrying).toBe(0);
    c.close();
  }, 60_000);

  test("a `send` during a 500 outage is retried and answers once it went out", async () => {
    bot.sendFaults.push({ status: 500 }, { status: 502, html: true });
    const { c } = await TestClient.connect(gw.url);
    const res = await ask(c, "send", { to: "7202", message: "outage-proof", provider: "telegram", idempotencyKey: crypto.randomUUID() }, 30_000);
    expect(res.ok).toBe(true);
    expect(inChat(7202).map((x) => x.params.text)).toEqual(["outage-proof", "outage-proof", "outage-proof"]);
    c.close();
  }, 60_000);

  test("five messages during an outage of 502s: each chat gets its answer exactly once, nothing lost", async () => {
    const chats = [7211, 7212, 7213, 7214, 7215];
    bot.sendFaults.push(...Array.from({ length: 8 }, () => ({ status: 502, html: true })));
    for (const id of chats) bot.userSays(`question from ${id}`, { id, username: `u${id}` });
    await until(() => chats.every((id) => inChat(id).some((x) => !x.faulted)), "every answer", 40_000);
    await Bun.sleep(1_000);
    for (const id of chats) {
      const answered = inChat(id).filter((x) => !x.faulted);
      expect(answered.map((x) => x.params.text)).toEqual([`question from ${id}`]);
    }
    expect(bot.sendFaults.length).toBe(0);
    const inbound = (await records(gw, { direction: "inbound" })).filter((r) => chats.includes(Number(r.chat)));
    expect(inbound.map((r) => r.status)).toEqual(chats.map(() => "replied"));
  }, 60_000);

  test("blocked by the user (403) fails at once with its reason, one attempt", async () => {
    bot.sendFaults.push({ status: 403, description: "Forbidden: bot was blocked by the user" });
    const { c } = await TestClient.connect(gw.url);
    const t0 = Date.now();
    const res = await c.request("send", { to: "7203", message: "hi", provider: "telegram", idempotencyKey: "blocked-1" });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(res.error).toMatchObject({ code: "INVALID_REQUEST" });
    expect(res.error.message).toContain("bot was blocked by the user");
    expect(inChat(7203).length).toBe(1);
    const rec = (await records(gw, { direction: "outbound" })).find((r) => r.idempotencyKey === "blocked-1");
    expect(rec).toMatchObject({ status: "failed", attempts: 1 });
    c.close();
  }, 30_000);
});

describe("A lost answer is not sent blindly again (issue 21 §2)", () => {
  test("a send whose answer never comes is marked interrupted, not repeated", async () => {
    const gw = await gateway({ telegram: telegram({ sendTimeoutS: 1 }), agent: { backend: "echo" } });
    try {
      const { c } = await TestClient.connect(gw.url);
      const res = await ask(c, "send", { to: "hang", message: "maybe", provider: "telegram", idempotencyKey: "lost-1" }, 15_000);
      expect(res.error.message).toContain("may have gone out");
      await Bun.sleep(3_000);
      expect(bot.calls.filter((x) => x.method === "sendMessage" && x.params.chat_id === "hang" && x.params.text === "maybe").length).toBe(1);
      const rec = (await records(gw, { direction: "outbound" })).find((r) => r.idempotencyKey === "lost-1");
      expect(rec).toMatchObject({ status: "interrupted", attempts: 1 });
      c.close();
    } finally {
      await gw.stop();
    }
  }, 30_000);
});

/** libfaketime (Debian `faketime`): the wall clock of the gateway process, moved by writing a file; the monotonic clock left alone. */
const FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

describe.skipIf(!existsSync(FAKETIME_LIB) || target !== "binary")("Clock steps while a send waits its turn (issue 22 §6)", () => {
  function faketime(dir: string) {
    const file = join(dir, "faketime");
    writeFileSync(file, "+0\n");
    const env = { LD_PRELOAD: FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE: file, FAKETIME_NO_CACHE: "1", FAKETIME_DONT_FAKE_MONOTONIC: "1" };
    return { env, step: (spec: string) => writeFileSync(file, `${spec}\n`) };
  }

  test("a step of −1 day while a reply is paced does not delay it", async () => {
    const cfg = { telegram: telegram({ pacing: { perChatMinIntervalMs: 3_000 } }), agent: { backend: "echo" } };
    const dir = tempStateDir(cfg);
    const clock = faketime(dir);
    const gw = await gateway(cfg, clock.env, dir);
    try {
      const { c } = await TestClient.connect(gw.url);
      await c.request("send", { to: "7301", message: "first", provider: "telegram", idempotencyKey: crypto.randomUUID() });
      c.send({ type: "req", id: "paced", method: "send", params: { to: "7301", message: "second", provider: "telegram", idempotencyKey: crypto.randomUUID() } });
      await Bun.sleep(500);
      clock.step("-1d");
      const res = await c.next((f) => f.type === "res" && f.id === "paced", 15_000);
      expect(res.ok).toBe(true);
      const [a, b] = inChat(7301);
      expect(b!.at - a!.at).toBeGreaterThanOrEqual(2_900);
      expect(b!.at - a!.at).toBeLessThan(8_000);
      // The gateway's wall clock did step: its record of the second send is stamped a day back.
      const rec = (await records(gw, { direction: "outbound" })).find((r) => r.chat === "7301" && r.providerMessageId === res.payload.messageId);
      expect(Date.now() - rec.updatedAt).toBeGreaterThan(86_000_000);
      c.close();
    } finally {
      await gw.stop();
    }
  }, 60_000);

  test("a step of +1 day while a send is paced, then a restart: it still goes out (queue age is the time it really waited)", async () => {
    const cfg = { telegram: telegram({ pacing: { perChatMinIntervalMs: 60_000 } }), agent: { backend: "echo" } };
    const dir = tempStateDir(cfg);
    const clock = faketime(dir);
    let gw = await gateway(cfg, clock.env, dir);
    const { c } = await TestClient.connect(gw.url);
    await c.request("send", { to: "7302", message: "first", provider: "telegram", idempotencyKey: crypto.randomUUID() });
    c.send({ type: "req", id: "paced", method: "send", params: { to: "7302", message: "second", provider: "telegram", idempotencyKey: "stepped-1" } });
    await until(async () => (await records(gw, { direction: "outbound", status: "queued" })).some((r) => r.idempotencyKey === "stepped-1"), "queued");
    clock.step("+1d");
    await Bun.sleep(300);
    c.close();
    expect(await gw.stop()).toBe(0);
    gw = await gateway(cfg, clock.env, dir);
    try {
      await until(() => inChat(7302).some((x) => x.params.text === "second"), "the queued send after the restart", 15_000);
      const rec = (await records(gw, { direction: "outbound" })).find((r) => r.idempotencyKey === "stepped-1");
      expect(rec.status).toBe("sent");
      expect(rec.updatedAt - Date.now()).toBeGreaterThan(86_000_000); // sent under the stepped clock
      expect(inChat(7302).map((x) => x.params.text)).toEqual(["first", "second"]);
    } finally {
      await gw.stop();
    }
  }, 60_000);
});
