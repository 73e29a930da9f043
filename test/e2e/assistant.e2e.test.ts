/**
 * Issue 23 through the compiled binary: chat commands (/new, /stop, /status, /help), the
 * command backend keeping a conversation ({{sessionUuid}}, {{isNewSession}},
 * commandFirstTurn, history-json, [photo]), an approved stranger told and answered, and
 * edits. Telegram is grammY against the fake Bot API; the agent is the fake
 * OpenAI-compatible server, which records what the model was asked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { uuidV5 } from "../../src/core/uuid.ts";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

let bot: FakeBotApi;
let ai: FakeOpenAi;
beforeAll(() => {
  bot = startFakeBotApi();
  ai = startFakeOpenAi();
});
afterAll(() => {
  bot.stop();
  ai.stop();
});

/** The texts the bot sent to one chat, in order. */
const textsTo = (chat: number) => bot.sent("sendMessage").filter((c) => String(c.params.chat_id) === String(chat)).map((c) => String(c.params.text));
/** A user of their own private chat. */
const user = (id: number) => ({ id, username: `user${id}` });

function gateway(config: Record<string, unknown>) {
  const { telegram, agent, ...rest } = config as { telegram?: Record<string, unknown>; agent?: Record<string, unknown> };
  // The model is asked the bare words here: the context header has its own tests (assistant-context.e2e).
  const stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["*"], ...telegram }, agent: { inboundHeader: false, ...agent }, ...rest });
  return spawnGateway({ target, stateDir, env: { TELEGRAM_BOT_TOKEN: bot.token, OPENAI_API_KEY: "sk-test" } });
}

describe("chat commands (issue 23 §2)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gateway({ agent: { backend: "openai", openai: { baseUrl: ai.url, model: "good" } } });
  });
  afterAll(() => gw.stop());

  test("/new gives a run with no earlier turns; /status and /help answer without a run; each is ledgered with its command", async () => {
    const chat = 6101;
    const { c } = await TestClient.connect(gw.url);
    const asked = () => ai.requests.filter((r) => r.body.messages.some((m: any) => String(m.content).startsWith(`[${chat}]`)));
    bot.userSays(`[${chat}] my name is Ada`, user(chat));
    await until(() => textsTo(chat).length === 1, "the first reply");
    bot.userSays(`[${chat}] what is my name?`, user(chat));
    await until(() => textsTo(chat).length === 2, "the second reply");
    // The second run saw the first turn.
    expect(asked()[1]!.body.messages.map((m: any) => m.content)).toEqual([`[${chat}] my name is Ada`, expect.any(String), `[${chat}] what is my name?`]);

    bot.userSays("/status@clawdis_test_bot", user(chat));
    await until(() => textsTo(chat).length === 3, "the status");
    bot.userSays("/HELP", user(chat));
    await until(() => textsTo(chat).length === 4, "the help");
    bot.userSays("/new", user(chat));
    await until(() => textsTo(chat).length === 5, "the /new confirmation");
    const before = ai.requests.length;
    bot.userSays(`[${chat}] hello again`, user(chat));
    await until(() => textsTo(chat).length === 6, "the reply after /new");

    const texts = textsTo(chat);
    expect(texts[2]).toBe(["Backend: openai (good)", "Conversation: 2 turns", "Runs: 0 running, 0 queued", "telegram: connected"].join("\n"));
    expect(texts[3]).toStartWith("Commands:\n/new");
    expect(texts[4]).toBe("New conversation started (the last one, 2 turns, is kept on disk).");
    // Only the message after /new reached the model, and with no earlier turns.
    expect(ai.requests.length).toBe(before + 1);
    expect(asked().at(-1)!.body.messages).toEqual([{ role: "user", content: `[${chat}] hello again` }]);
    expect(asked()).toHaveLength(3);

    const { records } = (await c.request("ledger.list", { direction: "inbound", limit: 200 })).payload;
    const mine = records.filter((r: any) => r.chat === String(chat));
    expect(mine.filter((r: any) => r.command).map((r: any) => [r.command, r.status]).sort()).toEqual([
      ["help", "replied"],
      ["new", "replied"],
      ["status", "replied"],
    ]);
    // The ended conversation is kept on disk, renamed with its end time.
    expect(readdirSync(join(gw.stateDir, "sessions")).filter((f) => f.startsWith(`telegram%3a${chat}.jsonl.ended-`))).toHaveLength(1);
    c.close();
  });
});

describe("/stop (issue 23 §2)", () => {
  test("ends the running turn, and the chat gets the confirmation (and no reply to the stopped turn)", async () => {
    const gw = await gateway({ agent: { backend: "openai", openai: { baseUrl: ai.url, model: "slow" } } });
    try {
      const chat = 6201;
      const { c } = await TestClient.connect(gw.url);
      const before = ai.requests.length;
      bot.userSays("tell me a very long story", user(chat));
      await until(() => ai.requests.length > before, "the model asked");
      const abortedBefore = ai.aborted;
      bot.userSays("/stop", user(chat));
      await until(() => textsTo(chat).length === 1, "the /stop confirmation");
      expect(textsTo(chat)).toEqual(["Stopped the reply in progress."]);
      // The model's stream was cut, and the turn's record says why.
      await until(() => ai.aborted > abortedBefore, "the model request aborted");
      await until(async () => {
        const all = (await c.request("ledger.list", { direction: "inbound", limit: 200 })).payload.records;
        return all.find((r: any) => r.chat === String(chat) && r.status === "failed" && r.reason === "stopped by /stop");
      }, "the stopped turn's record");
      bot.userSays("/stop", user(chat));
      await until(() => textsTo(chat).length === 2, "the second /stop");
      expect(textsTo(chat)[1]).toBe("Nothing was running.");
      await Bun.sleep(300);
      expect(textsTo(chat)).toHaveLength(2);
      c.close();
    } finally {
      await gw.stop();
    }
  });
});

describe("the command backend keeps a conversation (issue 23 §3)", () => {
  test("{{sessionUuid}} is stable within a chat and differs between chats; commandFirstTurn runs once per session; history-json on stdin; a photo arrives as [photo]", async () => {
    const dir = tempStateDir();
    const script = join(dir, "agent.sh");
    // A stand-in agent CLI: logs its argv and its stdin, answers one line.
    writeFileSync(script, `#!/bin/sh\necho "$*" >> "${dir}/argv.log"\ncat >> "${dir}/stdin.log"\necho "ok $1 $3"\n`);
    chmodSync(script, 0o755);
    const gw = await gateway({
      agent: {
        backend: "command",
        commandFirstTurn: [script, "first", "{{sessionUuid}}", "{{isNewSession}}", "{{message}}"],
        command: [script, "resume", "{{sessionUuid}}", "{{isNewSession}}", "{{message}}"],
        commandInput: "history-json",
      },
    });
    try {
      const [a, b] = [6301, 6302];
      bot.userSays("hello", user(a));
      await until(() => textsTo(a).length === 1, "a's first reply");
      bot.userSays("and again", user(a));
      await until(() => textsTo(a).length === 2, "a's second reply");
      bot.userSays("hi from b", user(b));
      await until(() => textsTo(b).length === 1, "b's reply");
      const file = bot.addFile(new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), "photos/cat.jpg");
      bot.userSays("", user(a), a, { text: undefined, photo: [{ file_id: file, file_unique_id: "u1", width: 1, height: 1, file_size: 4 }] });
      await until(() => textsTo(a).length === 3, "a's photo reply");
      bot.userSays("/new", user(a));
      await until(() => textsTo(a).length === 4, "a's /new");
      bot.userSays("fresh", user(a));
      await until(() => textsTo(a).length === 5, "a's reply after /new");

      const argv = readFileSync(join(dir, "argv.log"), "utf8").trim().split("\n");
      const uuidA = uuidV5(`telegram:${a}`);
      const uuidB = uuidV5(`telegram:${b}`);
      expect(uuidA).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(argv.slice(0, 4)).toEqual([`first ${uuidA} 1 hello`, `resume ${uuidA} 0 and again`, `first ${uuidB} 1 hi from b`, `resume ${uuidA} 0 [photo]`]);
      // After /new: a new session id, so a new UUID and the first-turn argv once more.
      const [kind, uuidNew, isNew, msg] = argv[4]!.split(" ");
      expect([kind, isNew, msg]).toEqual(["first", "1", "fresh"]);
      expect(uuidNew).not.toBe(uuidA);
      expect(argv).toHaveLength(5);
      expect(textsTo(a)[0]).toBe(`ok first 1`);

      const stdin = readFileSync(join(dir, "stdin.log"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
      expect(stdin[1]).toEqual({
        session: { id: `telegram:${a}`, uuid: uuidA, isNew: false },
        history: [
          { role: "user", content: "hello" },
          { role: "assistant", content: "ok first 1" },
        ],
        message: "and again",
        // The context block comes on stdin too (issue 23 §4), whatever agent.inboundHeader says.
        context: expect.stringContaining("private chat on Telegram"),
        media: [],
      });
      expect(stdin[3].message).toBe("[photo]");
      expect(stdin[3].media).toEqual([expect.objectContaining({ kind: "image", mime: "image/jpeg", bytes: 4 })]);
      expect(stdin[4]).toMatchObject({ session: { uuid: uuidNew, isNew: true }, history: [], message: "fresh" });
    } finally {
      await gw.stop();
    }
  });
});

describe("an approved stranger (issue 23 §7)", () => {
  test("is told they are approved, and the message that got them a code is answered", async () => {
    const gw = await gateway({ telegram: { allowFrom: [], dmPolicy: "pairing" }, agent: { backend: "openai", openai: { baseUrl: ai.url, model: "good" } } });
    try {
      const chat = 6401;
      bot.userSays("is the shop open on sunday?", user(chat));
      await until(() => textsTo(chat).length === 1, "the pairing code");
      const { c } = await TestClient.connect(gw.url);
      const [req] = (await c.request("pairing.list")).payload;
      expect(textsTo(chat)[0]).toContain(req.code);
      expect((await c.request("pairing.approve", { provider: "telegram", code: req.code })).ok).toBe(true);
      await until(() => textsTo(chat).length === 3, "the approval and the answer");
      expect(textsTo(chat).slice(1)).toEqual(["You're approved — ask away.", "echo: is the shop open on sunday? (1 messages)"]);
      expect(ai.requests.at(-1)!.body.messages).toEqual([{ role: "user", content: "is the shop open on sunday?" }]);
      // One record for the message: skipped (pairing requested), then answered on approval.
      const mine = await until(async () => {
        const { records } = (await c.request("ledger.list", { direction: "inbound", limit: 200 })).payload;
        const all = records.filter((r: any) => r.chat === String(chat));
        return all.length === 1 && all[0].status === "replied" && all;
      }, "the message's record replied");
      expect(mine[0]).toMatchObject({ status: "replied", runId: expect.any(String) });
      c.close();
    } finally {
      await gw.stop();
    }
  });
});

describe("edits (issue 23 §5)", () => {
  test("an edit of an answered message is skipped (edited after reply), with inbound.answerEdits a new (edited) turn", async () => {
    const gw = await gateway({ inbound: { answerEdits: false }, agent: { backend: "openai", openai: { baseUrl: ai.url, model: "good" } } });
    try {
      const chat = 6501;
      const { c } = await TestClient.connect(gw.url);
      const u = bot.userSays("what is 2+2", user(chat));
      await until(() => textsTo(chat).length === 1, "the answer");
      bot.userEdits(u, "what is 2+3");
      const skipped = await until(async () => {
        const { records } = (await c.request("ledger.list", { direction: "inbound", limit: 200 })).payload;
        return records.find((r: any) => r.chat === String(chat) && String(r.providerMessageId).includes(":edit:"));
      }, "the edit's record");
      expect(skipped).toMatchObject({ status: "skipped", reason: "edited after reply" });
      expect(textsTo(chat)).toHaveLength(1);
      c.close();
    } finally {
      await gw.stop();
    }
    const answering = await gateway({ inbound: { answerEdits: true }, agent: { backend: "openai", openai: { baseUrl: ai.url, model: "good" } } });
    try {
      const chat = 6502;
      const u = bot.userSays("what is 3+3", user(chat));
      await until(() => textsTo(chat).length === 1, "the answer");
      bot.userEdits(u, "what is 3+4");
      await until(() => textsTo(chat).length === 2, "the edit answered");
      expect(ai.requests.at(-1)!.body.messages.at(-1)).toEqual({ role: "user", content: "(edited) what is 3+4" });
    } finally {
      await answering.stop();
    }
  });
});

describe("in a group (issue 23 §2, §7)", () => {
  test("/status@thisbot is a command said to the bot; groups.allowFrom (default: the private allow-list) decides who may trigger", async () => {
    const gw = await gateway({
      telegram: { allowFrom: ["@alice"], groups: { policy: "open" } },
      agent: { backend: "openai", openai: { baseUrl: ai.url, model: "good" } },
    });
    try {
      const group = -100777;
      const { c } = await TestClient.connect(gw.url);
      const inGroup = (text: string, from: { id: number; username: string }, entities: unknown[]) =>
        bot.userSays(text, from, group, { chat: { id: group, type: "supergroup", title: "Team" }, entities });
      const command = (text: string) => [{ type: "bot_command", offset: 0, length: text.length }];
      const mention = [{ type: "mention", offset: 0, length: "@clawdis_test_bot".length }];
      inGroup("/status@clawdis_test_bot", { id: 6601, username: "alice" }, command("/status@clawdis_test_bot"));
      await until(() => textsTo(group).length === 1, "the status in the group");
      expect(textsTo(group)[0]).toStartWith("Backend: openai (good)");
      inGroup("/status@some_other_bot", { id: 6601, username: "alice" }, command("/status@some_other_bot"));
      inGroup("@clawdis_test_bot what's up?", { id: 6602, username: "bob" }, mention);
      inGroup("@clawdis_test_bot and now?", { id: 6601, username: "alice" }, mention);
      await until(() => textsTo(group).length === 2, "alice's answer");
      const records = await until(async () => {
        const all = (await c.request("ledger.list", { direction: "inbound", limit: 200 })).payload.records.filter((r: any) => r.chat === String(group));
        return all.length === 4 && all.every((r: any) => r.status !== "received") && all;
      }, "four group records");
      expect(records.map((r: any) => [r.status, r.reason ?? r.command ?? null]).sort()).toEqual([
        ["replied", null],
        ["replied", "status"],
        ["skipped", "not mentioned"],
        ["skipped", "sender not allowed in group"],
      ]);
      expect(textsTo(group)[1]).toBe("echo: @clawdis_test_bot and now? (1 messages)");
      c.close();
    } finally {
      await gw.stop();
    }
  });
});
