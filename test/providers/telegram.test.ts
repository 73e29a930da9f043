/** Telegram as grammY and the Bot API really behave: the real provider against the fake Bot API server. */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { getEventListeners } from "node:events";
import * as v from "valibot";
import type { AgentBackend } from "../../src/agent/types.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { senderAllowed as allowed } from "../../src/inbound/index.ts";
import { createGateway, type Gateway } from "../../src/gateway/server.ts";
import { GatewayError } from "../../src/protocol/index.ts";
import { silentLogger } from "../../src/log.ts";
import { sleep, TelegramProvider, type TelegramOptions } from "../../src/providers/telegram/index.ts";
import type { InboundMessage } from "../../src/providers/types.ts";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { tempStateDir } from "../helpers/gateway.ts";

const PNG = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));
const BIG = new Uint8Array(11 * 1024 * 1024);

let bot: FakeBotApi;
let media: ReturnType<typeof Bun.serve>;
const mediaHits: string[] = [];
const cleanup: (() => Promise<unknown> | void)[] = [];

beforeAll(() => {
  bot = startFakeBotApi();
  const files: Record<string, [Uint8Array | string, string]> = {
    "/cat.png": [PNG, "image/png"],
    "/big.jpg": [BIG, "image/jpeg"],
    "/dance.gif": [PNG, "image/gif"],
    "/logo.svg": ["<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"],
  };
  media = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      mediaHits.push(path);
      const f = files[path];
      return f ? new Response(f[0] as BodyInit, { headers: { "content-type": f[1] } }) : new Response("no", { status: 404 });
    },
  });
});
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});
afterAll(() => {
  bot.stop();
  media.stop(true);
});

function provider(opts: Partial<TelegramOptions> = {}) {
  const inbound: InboundMessage[] = [];
  const p = new TelegramProvider(
    { botToken: bot.token, apiRoot: bot.apiRoot, pollTimeoutS: 1, ...opts },
    // The media fake listens on 127.0.0.1: internal addresses are allowed for it.
    { stateDir: tempStateDir(), log: silentLogger, onInbound: (m) => void inbound.push(m), onStatus: () => {}, mediaUrls: () => ({ allowPrivateUrls: true, allowUrlHosts: [] }) },
  );
  cleanup.push(() => p.stop());
  return { p, inbound };
}

const pollsAfter = (t: number) => bot.calls.filter((c) => c.method === "getUpdates" && c.at >= t);

async function until(cond: () => boolean, ms = 5_000, what = "condition") {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** Start polling with a fault queued for the first getUpdates; the gap to the next poll and the reported error. */
async function pollAfterFault(opts: Partial<TelegramOptions>, fault: () => void) {
  const { p } = provider(opts);
  fault();
  const t0 = Date.now();
  await p.start();
  await until(() => pollsAfter(t0).length >= 2, 8_000, "the poll after the fault");
  const [first, second] = pollsAfter(t0);
  return { gapMs: second!.at - first!.at, lastError: String(p.status().detail?.lastError) };
}

describe("request timeouts: long polls get poll timeout + margin, sends their own", () => {
  test("a long poll that never answers is given up by the watchdog after pollTimeoutS + margin, and polling goes on", async () => {
    const { gapMs, lastError } = await pollAfterFault({ pollTimeoutS: 1, pollMarginS: 1 }, () => (bot.stalledPolls = 1));
    expect(gapMs).toBeGreaterThanOrEqual(1_900);
    expect(lastError).toContain("watchdog restarted the poll loop");
  }, 15_000);

  test("a send that hangs fails UNAVAILABLE after sendTimeoutS, not after grammY's 500 s", async () => {
    const { p } = provider({ sendTimeoutS: 1 });
    const t0 = Date.now();
    const err = await p.send({ to: "hang", message: "x", idempotencyKey: "k" }).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe("UNAVAILABLE");
    expect(Date.now() - t0).toBeLessThan(4_000);
  }, 10_000);
});

describe("429 on getUpdates", () => {
  test("the next poll waits retry_after", async () => {
    const { gapMs, lastError } = await pollAfterFault({}, () => (bot.pollRateLimits = { count: 1, retryAfter: 3 }));
    // Without retry_after the first retry comes after 0.5–1 s of backoff.
    expect(gapMs).toBeGreaterThanOrEqual(2_900);
    expect(lastError).toContain("429");
  }, 15_000);
});

describe("allowFrom usernames", () => {
  const msg = (names: string[]) => ({ sender: "4242", senderNames: names });
  const senderAllowed = (allowFrom: string[], m: { sender: string; senderNames: string[] }) => allowed(allowFrom, m.sender, m.senderNames);
  test("compare case-insensitively", () => {
    expect(senderAllowed(["@Alice"], msg(["@alice"]))).toBe(true);
    expect(senderAllowed(["@alice"], msg(["@ALICE"]))).toBe(true);
    expect(senderAllowed(["@bob"], msg(["@alice"]))).toBe(false);
    expect(senderAllowed(["4242"], msg([]))).toBe(true);
  });

  test("through the gateway: @Alice in allowFrom answers user alice", async () => {
    const cfg = v.parse(ConfigSchema, {
      gateway: { port: 0 },
      telegram: { botToken: bot.token, apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["@Alice"] },
    });
    const g: Gateway = createGateway({ config: cfg, stateDir: tempStateDir(), lock: false });
    cleanup.push(() => g.stop("test over"));
    await g.start();
    const t0 = Date.now();
    bot.userSays("case does not matter", { id: 5151, username: "alice" });
    const reply = await bot.waitFor((c) => c.method === "sendMessage" && c.at >= t0 && c.params.text === "case does not matter");
    expect(String(reply.params.chat_id)).toBe("5151");
  });
});

describe("media the photo endpoint refuses", () => {
  const cases: [string, string][] = [
    ["/cat.png", "sendPhoto"],
    ["/big.jpg", "sendDocument"],
    ["/dance.gif", "sendAnimation"],
    ["/logo.svg", "sendDocument"],
  ];
  for (const [path, method] of cases) {
    test(`${path} goes through ${method}`, async () => {
      const { p } = provider();
      // By position, not time: the previous case's call can carry the same millisecond.
      const before = bot.sent().length;
      await p.send({ to: "4242", message: "look", mediaUrl: `http://127.0.0.1:${media.port}${path}`, idempotencyKey: path });
      const call = bot.sent().slice(before).find((c) => c.method.startsWith("send"))!;
      expect(call.method).toBe(method);
      expect(call.params.caption).toBe("look");
    }, 15_000);
  }
});

describe("forum topics", () => {
  test("a topic message's chat names the topic, and the reply passes message_thread_id", async () => {
    const { p, inbound } = provider();
    await p.start();
    bot.userSays("in a topic", { id: 4242, username: "alice" }, -1001234567890, {
      chat: { id: -1001234567890, type: "supergroup", is_forum: true },
      message_thread_id: 45,
      is_topic_message: true,
    });
    await until(() => inbound.some((m) => m.text === "in a topic"));
    const m = inbound.find((x) => x.text === "in a topic")!;
    expect(m).toMatchObject({ chat: "-1001234567890:45", chatType: "group" });
    const t0 = Date.now();
    await p.send({ to: m.chat, message: "answer", idempotencyKey: "topic" });
    const call = bot.sent().find((c) => c.at >= t0)!;
    expect(call.params).toMatchObject({ chat_id: "-1001234567890", message_thread_id: 45, text: "answer" });
  });
});

describe("no inbound message lost across a restart", () => {
  test("a restart during the agent run: the offset was confirmed, yet the message is answered once after the restart", async () => {
    const stateDir = tempStateDir();
    const config = v.parse(ConfigSchema, { gateway: { port: 0 }, telegram: { botToken: bot.token, apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["@carol"] } });
    let started = false;
    const stuck: AgentBackend = {
      name: "stuck",
      run: (_t, _e, signal) => new Promise((_, reject) => ((started = true), signal.addEventListener("abort", () => reject(new Error("aborted"))))),
    };
    const first = createGateway({ config, stateDir, lock: false, agentBackend: stuck });
    await first.start();
    const update = bot.userSays("answer me after the restart", { id: 777, username: "carol" });
    await until(() => started, 5_000, "the run to start");
    // The offset past this update is confirmed before the run ends.
    await until(() => bot.offsets.includes(update + 1), 5_000, "the offset confirmation");
    await first.stop("restart");
    const t0 = Date.now();
    const second = createGateway({ config, stateDir, lock: false });
    cleanup.push(() => second.stop("test over"));
    await second.start();
    await bot.waitFor((c) => c.method === "sendMessage" && c.at >= t0 && c.params.text === "answer me after the restart");
    await Bun.sleep(1_500);
    expect(bot.sent("sendMessage").filter((c) => c.params.text === "answer me after the restart")).toHaveLength(1);
    expect(second.ctx.ledger.list({ direction: "inbound" }).find((r) => r.chat === "777")?.status).toBe("replied");
  }, 20_000);
});

describe("defects (issue 15)", () => {
  test("sleep removes its abort listener when it ends (no MaxListenersExceededWarning in long outages)", async () => {
    const ctl = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, ctl.signal);
    expect(getEventListeners(ctl.signal, "abort")).toHaveLength(0);
    const pending = sleep(60_000, ctl.signal);
    ctl.abort();
    await pending;
  });

  test("a media URL with a malformed percent-escape is INVALID_REQUEST, before anything is downloaded", async () => {
    const cfg = v.parse(ConfigSchema, { gateway: { port: 0 }, telegram: { botToken: bot.token, apiRoot: bot.apiRoot, pollTimeoutS: 1 } });
    const g: Gateway = createGateway({ config: cfg, stateDir: tempStateDir(), lock: false });
    cleanup.push(() => g.stop("test over"));
    const { url } = await g.start();
    const { c } = await TestClient.connect(url);
    const hits = mediaHits.length;
    const res = await c.request("send", { to: "4242", message: "x", provider: "telegram", mediaUrl: `http://127.0.0.1:${media.port}/%E0%A4%A`, idempotencyKey: "bad-escape" });
    expect(res.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining("malformed percent-escape") });
    expect(mediaHits.length).toBe(hits);
    c.close();
  });
});
