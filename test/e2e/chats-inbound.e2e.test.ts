/**
 * Issue 16 end to end through the compiled binary and the real grammY client against the
 * fake Bot API: strangers and pairing (§1), groups (§2), typing (§3), long replies to a
 * chat (§4), inbound media (§5), live pacing (§6/§7 of the brief) and the poll watchdog (§7).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type BotCall, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { inboundOf, telegramGateway } from "../helpers/telegram-gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

let bot: FakeBotApi;
beforeAll(() => {
  bot = startFakeBotApi();
});
afterAll(() => bot.stop());

const toChat = (chat: number | string, method = "sendMessage"): BotCall[] => bot.sent(method).filter((c) => String(c.params.chat_id) === String(chat));


function config(telegram: Record<string, unknown>, rest: Record<string, unknown> = {}) {
  return { telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, ...telegram }, ...rest };
}

function gateway(cfg: Record<string, unknown>, stateDir = tempStateDir(cfg)): Promise<RunningGateway> {
  return telegramGateway(target, stateDir, { TELEGRAM_BOT_TOKEN: bot.token });
}

/** Inbound ledger records of one chat, oldest first. */
async function inbound(gw: RunningGateway, chat: number | string) {
  const recs = await inboundOf(gw, chat);
  return recs.sort((a: any, b: any) => a.ts - b.ts);
}

describe("Strangers: pairing from the first message to an approved run (§1)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gateway(config({ dmPolicy: "pairing" }));
  });
  afterAll(() => gw.stop());

  test("one code, nothing else; the owner approves with the CLI; the next message starts a run", async () => {
    const stranger = { id: 5101, username: "stranger" };
    bot.userSays("hello?", stranger);
    const codeMsg = await bot.waitFor((x) => x.method === "sendMessage" && String(x.params.chat_id) === "5101");
    const code = /pairing code: ([A-Z2-9]{8})\b/.exec(String(codeMsg.params.text))?.[1];
    expect(code).toMatch(/^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/);
    await until(async () => (await inbound(gw, 5101)).length === 1, "the first record");

    bot.userSays("anyone there?", stranger);
    await until(async () => (await inbound(gw, 5101)).length === 2, "the second record");
    await Bun.sleep(300);
    expect(toChat(5101).length).toBe(1);
    expect((await inbound(gw, 5101)).map((r: any) => [r.status, r.reason])).toEqual([
      ["skipped", "pairing requested"],
      ["skipped", "pairing pending"],
    ]);

    const url = ["--url", gw.url];
    const list = JSON.parse((await runCli(["pairing", "list", "--json", ...url], { target })).stdout);
    expect(list).toEqual([expect.objectContaining({ provider: "telegram", code, sender: "5101", name: "A (@stranger)" })]);
    expect(list[0].expiresAt - list[0].createdAt).toBe(3_600_000);
    const approved = await runCli(["pairing", "approve", "telegram", code!.toLowerCase(), ...url], { target });
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain("approved 5101 on telegram");
    // Stored under <state>/pairing, owner-only.
    expect(statSync(join(gw.stateDir, "pairing", "telegram.json")).mode & 0o777).toBe(0o600);

    bot.userSays("thanks, now answer me", stranger);
    const reply = await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "thanks, now answer me");
    expect(String(reply.params.chat_id)).toBe("5101");
    await until(async () => (await inbound(gw, 5101)).at(-1)?.status === "replied", "the replied record");
    // Approved without a restart; a second approval of the same code is an unknown code.
    const again = await runCli(["pairing", "approve", "telegram", code!, ...url], { target });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no pairing request with code "${code}"`);
  });

  test("a fourth stranger while three wait gets nothing: pairing queue full", async () => {
    for (const id of [5102, 5103]) bot.userSays("hi", { id, username: `s${id}` });
    await until(() => toChat(5102).length === 1 && toChat(5103).length === 1, "two more codes");
    // 5101 was approved: 5102, 5103 and one more fill the queue of 3.
    bot.userSays("hi", { id: 5104, username: "s5104" });
    await until(() => toChat(5104).length === 1, "the third code");
    bot.userSays("me too", { id: 5105, username: "s5105" });
    await until(async () => (await inbound(gw, 5105)).length === 1, "the fourth stranger's record");
    expect((await inbound(gw, 5105))[0]).toMatchObject({ status: "skipped", reason: "pairing queue full" });
    await Bun.sleep(300);
    expect(toChat(5105)).toEqual([]);
  });
});

describe("Groups (§2)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gateway(config({ groups: { policy: "allowlist", allow: ["-100777"] } }));
  });
  afterAll(() => gw.stop());
  const group = (id: number) => ({ chat: { id, type: "supergroup", title: "G" } });
  const member = { id: 6001, username: "member" };

  test("an unmentioned line is skipped; a mention is answered in the group as a reply; other groups are not let in", async () => {
    bot.userSays("just chatting", member, -100777, group(-100777));
    const mention = "@clawdis_test_bot what time is it?";
    bot.userSays(mention, member, -100777, { ...group(-100777), entities: [{ type: "mention", offset: 0, length: 17 }] });
    bot.userSays("@clawdis_test_bot hello", member, -100888, { ...group(-100888), entities: [{ type: "mention", offset: 0, length: 17 }] });
    const reply = await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === mention);
    expect(String(reply.params.chat_id)).toBe("-100777");
    const recs = await until(async () => {
      const r = await inbound(gw, -100777);
      return r.length === 2 && r.some((x: any) => x.status === "replied") ? r : null;
    }, "the group's records");
    expect(recs.find((r: any) => r.status !== "replied")).toMatchObject({ status: "skipped", reason: "not mentioned" });
    // The reply answers the triggering message.
    const triggering = Number(recs.find((r: any) => r.status === "replied").providerMessageId.split(":")[1]);
    expect(reply.params.reply_parameters).toMatchObject({ message_id: triggering });
    await until(async () => (await inbound(gw, -100888)).length === 1, "the other group's record");
    expect((await inbound(gw, -100888))[0]).toMatchObject({ status: "skipped", reason: "group not allowed" });
    expect(toChat(-100888)).toEqual([]);
    expect(toChat(-100777).length).toBe(1);
  });

  test("a reply to one of the bot's messages is addressed to it; the run is in the group's own session", async () => {
    const { c } = await TestClient.connect(gw.url);
    const botMsg = { message_id: 9, date: 0, chat: { id: -100777, type: "supergroup" }, from: { id: bot.me.id, is_bot: true, first_name: "Clawdis" }, text: "earlier" };
    bot.userSays("and tomorrow?", member, -100777, { ...group(-100777), reply_to_message: botMsg });
    const ev = await c.next((f) => f.event === "agent" && f.payload.data?.sessionId === "telegram:-100777", 10_000);
    expect(ev.payload.stream).toBe("lifecycle");
    await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "and tomorrow?");
    c.close();
  });
});

describe("Typing, long replies and media (§3, §4, §5)", () => {
  let gw: RunningGateway;
  // The agent answers with the files it was given ({{media}}) and the message (a line that is JSON would be an event, not text).
  const script = 'printf "media=%s\\n%s\\n" "$1" "$2"';
  beforeAll(async () => {
    gw = await spawnGateway({
      target,
      stateDir: tempStateDir(
        config({ allowFrom: ["*"] }, { agent: { backend: "command", command: ["sh", "-c", script, "sh", "{{media}}", "{{message}}"] }, media: { maxInboundBytes: 4_096 } }),
      ),
      env: { TELEGRAM_BOT_TOKEN: bot.token },
    });
  });
  afterAll(() => gw.stop());

  test("a photo is stored (0600 under a 0700 dir), handed to the command backend as {{media}}, and in the ledger", async () => {
    const jpeg = new Uint8Array(2_000).map((_, i) => (i * 7) & 0xff);
    const fileId = bot.addFile(jpeg, "photos/file_1.jpg");
    const photo = [{ file_id: fileId, file_unique_id: "u1", width: 90, height: 90, file_size: jpeg.byteLength }];
    bot.userSays("", { id: 7001, username: "pic" }, 7001, { text: undefined, photo, caption: "what is this?" });
    const reply = await bot.waitFor((x) => x.method === "sendMessage" && String(x.params.chat_id) === "7001", 15_000);
    const [mediaLine, textLine] = String(reply.params.text).split("\n");
    expect(textLine).toBe("what is this?");
    const media = JSON.parse(mediaLine!.replace(/^media=/, ""));
    expect(media).toEqual([{ kind: "image", mime: "image/jpeg", bytes: 2_000, path: expect.stringContaining(join(gw.stateDir, "media", "inbound")) }]);
    expect(new Uint8Array(readFileSync(media[0].path))).toEqual(jpeg);
    expect(statSync(media[0].path).mode & 0o777).toBe(0o600);
    expect(statSync(join(gw.stateDir, "media", "inbound")).mode & 0o777).toBe(0o700);
    const rec = await until(async () => (await inbound(gw, 7001)).find((r: any) => r.status === "replied"), "the replied record");
    expect(rec.media).toEqual(media);
  }, 30_000);

  test("a file over media.maxInboundBytes is skipped (media too large); the caption still starts a run", async () => {
    const big = bot.addFile(new Uint8Array(10_000), "documents/big.pdf");
    const document = { file_id: big, file_unique_id: "u2", file_name: "big.pdf", mime_type: "application/pdf", file_size: 10_000 };
    bot.userSays("", { id: 7002, username: "doc" }, 7002, { text: undefined, document, caption: "read this" });
    const reply = await bot.waitFor((x) => x.method === "sendMessage" && String(x.params.chat_id) === "7002", 15_000);
    // The agent is told what it could not see (issue 21 §6).
    expect(String(reply.params.text)).toBe("media=[]\nread this\n[document big.pdf, 9.8 KiB: not downloaded, over the limit]");
    const recs = await until(async () => {
      const r = await inbound(gw, 7002);
      return r.length === 2 && r.some((x: any) => x.status === "replied") ? r : null;
    }, "both records");
    expect(recs.find((r: any) => r.status === "skipped")).toMatchObject({ reason: "media too large" });
    expect(bot.downloads).not.toContain("documents/big.pdf");
  }, 30_000);

  test("a 9,000-character reply to a chat goes out as ordered parts of ≤ 4,096", async () => {
    const long = Array.from({ length: 60 }, (_, i) => `Line ${i} ${"of a long answer that keeps going. ".repeat(5)}`).join("\n\n");
    expect(long.length).toBeGreaterThan(9_000);
    bot.userSays(long, { id: 7003, username: "long" });
    const parts = await until(() => (toChat(7003).length >= 3 ? toChat(7003) : null), "three parts", 15_000);
    await Bun.sleep(300);
    expect(toChat(7003).length).toBe(3);
    for (const p of parts) expect(String(p.params.text).length).toBeLessThanOrEqual(4_096);
    const squash = (s: string) => s.replace(/\s+/g, "");
    expect(squash(parts.map((p) => p.params.text).join(""))).toBe(squash(`media=[]\n${long}`));
  }, 30_000);
});

describe("Typing while the agent works (§3)", () => {
  test("sendChatAction typing at once and every 4 s during a slow run, and not after the reply", async () => {
    const gw = await spawnGateway({
      target,
      stateDir: tempStateDir(config({ allowFrom: ["*"] }, { agent: { backend: "command", command: ["sh", "-c", "sleep 5; echo done"] } })),
      env: { TELEGRAM_BOT_TOKEN: bot.token },
    });
    try {
      const t0 = Date.now();
      bot.userSays("take your time", { id: 7101, username: "slow" });
      const first = await bot.waitFor((x) => x.method === "sendChatAction" && String(x.params.chat_id) === "7101", 10_000);
      expect(first.params.action).toBe("typing");
      const reply = await bot.waitFor((x) => x.method === "sendMessage" && String(x.params.chat_id) === "7101", 15_000);
      expect(reply.params.text).toBe("done");
      const during = toChat(7101, "sendChatAction");
      // At once, then again 4 s later, while the 5 s run worked.
      expect(during.length).toBeGreaterThanOrEqual(2);
      expect(during[1]!.at - during[0]!.at).toBeGreaterThanOrEqual(3_900);
      expect(during.every((x) => x.at < reply.at)).toBe(true);
      expect(first.at - t0).toBeLessThan(4_000);
      await Bun.sleep(4_500);
      expect(toChat(7101, "sendChatAction").length).toBe(during.length);
    } finally {
      await gw.stop();
    }
  }, 40_000);
});

describe("Links that stay alive (§7)", () => {
  test("a getUpdates that never answers is ended by the watchdog after pollTimeoutS + 30 s; polling recovers", async () => {
    const gw = await gateway(config({ allowFrom: ["*"] }));
    try {
      const t0 = Date.now();
      bot.stalledPolls = 1;
      // The stalled poll is under way: messages wait for the watchdog.
      await until(() => bot.stalledPolls === 0, "the stalled poll");
      bot.userSays("are you still there?", { id: 7201, username: "patient" });
      const reply = await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "are you still there?", 45_000);
      expect(reply.at - t0).toBeGreaterThanOrEqual(30_000);
      const { c } = await TestClient.connect(gw.url);
      const h = (await c.request("health")).payload.telegram;
      expect(h).toMatchObject({ connected: true, watchdogRestarts: 1 });
      expect(h.lastError).toContain("watchdog restarted the poll loop");
      c.close();
      expect(gw.stdout() + gw.stderr() + readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8")).toContain("no getUpdates answer within 31 s");
    } finally {
      await gw.stop();
    }
  }, 60_000);
});

describe("Pacing from the live config", () => {
  test("a reload that sets telegram.pacing applies to the next sends without a restart", async () => {
    const cfg = config({});
    const stateDir = tempStateDir(cfg);
    const gw = await gateway(cfg, stateDir);
    try {
      const { c } = await TestClient.connect(gw.url);
      writeFileSync(join(stateDir, "clawdis.json"), JSON.stringify(config({ pacing: { perChatMinIntervalMs: 1_500 } })));
      const res = await c.request("config.reload");
      expect(res.error).toBeUndefined();
      expect(JSON.stringify(res.payload)).toContain("telegram.pacing");
      const [a, b] = await Promise.all(
        ["one", "two"].map((message) => c.request("send", { to: "7301", message, provider: "telegram", idempotencyKey: crypto.randomUUID() })),
      );
      expect(a!.ok && b!.ok).toBe(true);
      const [first, second] = toChat(7301);
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_500);
      c.close();
    } finally {
      await gw.stop();
    }
  }, 30_000);
});
