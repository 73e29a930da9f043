/**
 * Chat commands and edits meet the inbound flow: /stop, /new and /status also reach
 * messages still being collected (album, burst), downloading or waiting their turn; an
 * album's caption is never a command; an edit replaces just its message's part of a turn
 * not yet started; a late command is not carried out; `/cmd@otherbot` is plain text.
 * Real Ledger, InboundFlow, AgentRunner, SessionStore and Delivery; the backend is a stand-in.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentRunner } from "../../src/agent/runner.ts";
import { SessionStore } from "../../src/agent/sessions.ts";
import type { AgentTurn } from "../../src/agent/types.ts";
import { Delivery } from "../../src/delivery/index.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { parseCommand, type CommandDeps } from "../../src/inbound/commands.ts";
import { InboundFlow, InboundGate, PairingStore, handleChatMessage, type ChatMessage, type ChatPolicy } from "../../src/inbound/index.ts";
import { silentLogger } from "../../src/log.ts";
import type { InboundMedia } from "../../src/protocol/index.ts";
import { Providers } from "../../src/providers/index.ts";
import { FakeTelegram } from "../helpers/fake-provider.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, what: string, ms = 5_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function world(settings: { albumWindowMs?: number; debounceMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-pending-"));
  const ledger = new Ledger({ dir: join(dir, "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 });
  const tg = new FakeTelegram();
  const fast = { perChatMinIntervalMs: 0, perMinute: 10_000, jitterMs: 0 };
  const delivery = new Delivery({ ledger, providers: new Providers([tg]), outboxDir: join(dir, "outbox"), pacing: { whatsapp: fast, telegram: fast }, maxChars: { whatsapp: 4096, telegram: 4096 }, log: silentLogger });
  delivery.resume();
  const policy: ChatPolicy = { dmPolicy: "allowlist", allowFrom: ["999"], groups: { policy: "disabled", allow: [], requireMention: true } };
  const gate = new InboundGate(() => policy, new PairingStore(join(dir, "pairing")));
  /** What the agent was asked, in order; a run holds until `release()` while `hold` is on. */
  const asked: AgentTurn[] = [];
  let hold: Promise<void> | null = null;
  let release = () => {};
  const block = () => (hold = new Promise<void>((r) => (release = () => ((hold = null), r()))));
  const sessions = new SessionStore(join(dir, "sessions"), 20);
  const runner = new AgentRunner({
    backend: {
      name: "stand-in",
      run: async (turn, _emit, signal) => {
        asked.push(turn);
        if (hold) await Promise.race([hold, new Promise((_, no) => signal.addEventListener("abort", () => no(signal.reason)))]);
        return { summary: `answer to ${turn.message}` };
      },
    },
    log: silentLogger,
    onEvent: () => {},
    sessions,
  });
  const flow = new InboundFlow(() => ({ albumWindowMs: 200, debounceMs: 0, lateAfterMs: 60_000, lateAnswerWindowMs: 6 * 3_600_000, lateNotice: false, ...settings }));
  let newSessions = 0;
  const commands: CommandDeps = {
    // As the gateway's (src/gateway/chat-commands.ts): runs queued behind the one in progress are dropped first.
    newSession: async (id) => {
      newSessions++;
      const { queued } = runner.stopSession(id, { queuedOnly: true, reason: "stopped by /new" });
      const { ended } = await runner.newSession(id);
      return { endedTurns: ended.turns, dropped: queued };
    },
    stopSession: (id) => runner.stopSession(id),
    status: async (id) => ({ backend: "stand-in", turns: (await runner.sessionState(id)).turns, ...runner.sessionRuns(id) }),
    botName: () => "clawdis_bot",
  };
  const deps = {
    ledger,
    gate,
    flow,
    commands,
    log: silentLogger,
    send: (p: Parameters<Delivery["send"]>[0]) => delivery.send(p),
    editQueued: (runId: string, text: string) => runner.editQueued(runId, text),
    startRun: async (params: Parameters<Delivery["deliver"]>[0] & { media?: InboundMedia[] }, via: "telegram" | "whatsapp") => {
      const r = await runner.start({ message: params.message, sessionId: params.sessionId!, timeoutMs: 10_000, ...(params.media ? { media: params.media } : {}) });
      return { runId: r.runId, done: r.done.then((final) => delivery.deliver(params, final, via)), cause: r.cause };
    },
  };
  let n = 0;
  const say = (m: Partial<ChatMessage>) =>
    handleChatMessage(deps, { provider: "telegram", chat: "999", sender: "999", senderNames: [], messageId: String(++n), text: "", ts: Date.now(), ...m });
  const photo = (i: number) => ({ media: [{ kind: "image" as const, mime: "image/jpeg", bytes: 3, path: `/tmp/p${i}.jpg` }] });
  const record = (id: string) => ledger.list({ direction: "inbound", limit: 1_000 }).find((r) => r.providerMessageId === id && r.status !== "duplicate");
  const texts = () => tg.sent.map((s) => s.message);
  return { ledger, tg, flow, asked, block, release: () => release(), say, photo, record, texts, runner, newSessions: () => newSessions };
}

describe("/stop, /new and /status reach messages the runner has not seen", () => {
  test("two album photos then /stop: nothing is answered, both records say stopped by /stop, the confirmation counts them", async () => {
    const w = world();
    const a = w.say({ messageId: "a1", ...w.photo(1), extras: { albumId: "alb" }, text: "what plant?" });
    const b = w.say({ messageId: "a2", ...w.photo(2), extras: { albumId: "alb" } });
    await sleep(50);
    await w.say({ messageId: "s", text: "/stop" });
    await Promise.all([a, b]);
    await sleep(300);
    expect(w.asked).toEqual([]);
    expect(w.texts()).toEqual(["Stopped 2 queued messages."]);
    expect(w.record("a1")).toMatchObject({ status: "skipped", reason: "stopped by /stop" });
    expect(w.record("a2")).toMatchObject({ status: "skipped", reason: "stopped by /stop" });
    // The chat goes on: a photo after /stop is a turn of its own, answered.
    await w.say({ messageId: "a3", ...w.photo(3), extras: { albumId: "alb" }, text: "this one" });
    expect(w.asked.map((t) => t.message)).toEqual(["this one"]);
  });

  test("a photo still downloading and the message waiting behind it in the chat's line are dropped by /stop", async () => {
    const w = world();
    let got!: () => void;
    const downloaded = new Promise<void>((r) => (got = r));
    const first = w.say({ messageId: "p", text: "look", fetchMedia: async () => (await downloaded, w.photo(1)) });
    const second = w.say({ messageId: "t", text: "and tell me" });
    await sleep(50);
    await w.say({ messageId: "s", text: "/status" });
    await w.say({ messageId: "s2", text: "/stop" });
    got();
    await Promise.all([first, second]);
    expect(w.asked).toEqual([]);
    expect(w.texts()).toEqual(["Backend: stand-in\nConversation: 0 turns\nRuns: 0 running, 2 queued", "Stopped 2 queued messages."]);
    expect(w.record("p")).toMatchObject({ status: "skipped", reason: "stopped by /stop" });
    expect(w.record("t")).toMatchObject({ status: "skipped", reason: "stopped by /stop" });
  });

  test("/new drops a burst still being collected: nothing written before it reaches the new conversation", async () => {
    const w = world({ debounceMs: 200 });
    const a = w.say({ messageId: "m1", text: "old topic" });
    await sleep(30);
    await w.say({ messageId: "n", text: "/new" });
    await a;
    await w.say({ messageId: "m2", text: "new topic" });
    expect(w.asked.map((t) => [t.message, t.history.length])).toEqual([["new topic", 0]]);
    expect(w.record("m1")).toMatchObject({ status: "skipped", reason: "stopped by /new" });
    expect(w.texts()[0]).toBe("New conversation started. Dropped 1 message not answered yet.");
  });
});

test("/new while a reply is in progress: it finishes in the old conversation; the run queued behind it is dropped, not run in the new one", async () => {
  const w = world();
  w.block();
  const busy = w.say({ messageId: "b", text: "long question" });
  await until(() => w.asked.length === 1, "the run in progress");
  const queued = w.say({ messageId: "q", text: "written before /new" });
  await until(() => w.runner.sessionRuns("telegram:999").queued === 1, "the queued run");
  await w.say({ messageId: "n", text: "/new" });
  w.release();
  await Promise.all([busy, queued]);
  await w.say({ messageId: "after", text: "fresh start" });
  expect(w.asked.map((t) => [t.message, t.history.length])).toEqual([
    ["long question", 0],
    ["fresh start", 0],
  ]);
  expect(w.record("b")).toMatchObject({ status: "replied" });
  expect(w.record("q")).toMatchObject({ status: "failed", reason: "stopped by /new" });
  expect(w.texts()).toContain("New conversation started. Dropped 1 message not answered yet.");
});

describe("an album whose caption is a command", () => {
  test("is one turn with all its photos and one answer, not a command", async () => {
    const w = world();
    await Promise.all([
      w.say({ messageId: "c1", ...w.photo(1), extras: { albumId: "g" }, text: "/status" }),
      w.say({ messageId: "c2", ...w.photo(2), extras: { albumId: "g" } }),
      w.say({ messageId: "c3", ...w.photo(3), extras: { albumId: "g" } }),
    ]);
    await until(() => w.tg.sent.length >= 1, "the answer");
    await sleep(100);
    expect(w.asked.map((t) => [t.message, t.media?.length])).toEqual([["/status", 3]]);
    expect(w.texts()).toEqual(["answer to /status"]);
    expect(w.record("c1")?.command).toBeUndefined();
  });
});

describe("edits of a turn not started yet", () => {
  test("an edit inside the debounce window replaces just that message's part", async () => {
    const w = world({ debounceMs: 250 });
    const a = w.say({ messageId: "d1", text: "first line" });
    const b = w.say({ messageId: "d2", text: "second line" });
    await sleep(50);
    await w.say({ messageId: "d1e", editOf: "d1", text: "first line (fixed)" });
    await Promise.all([a, b]);
    expect(w.asked.map((t) => t.message)).toEqual(["first line (fixed)\nsecond line"]);
    expect(w.record("d1e")).toMatchObject({ status: "skipped", reason: "edit applied to the queued turn" });
  });

  test("an edit of a folded message while its turn waits in the runner: that part changes, no extra run", async () => {
    const w = world({ debounceMs: 100 });
    w.block();
    const busy = w.say({ messageId: "x", text: "busy" });
    await until(() => w.asked.length === 1, "the first run");
    const a = w.say({ messageId: "f1", text: "first line" });
    const b = w.say({ messageId: "f2", text: "second line" });
    await until(() => w.record("f2")?.status === "skipped", "the fold");
    await until(() => w.runner.sessionRuns("telegram:999").queued === 1, "the queued turn");
    await w.say({ messageId: "f2e", editOf: "f2", text: "second line (fixed)" });
    await w.say({ messageId: "f1e", editOf: "f1", text: "first line (fixed)" });
    w.release();
    await Promise.all([busy, a, b]);
    expect(w.asked.map((t) => t.message)).toEqual(["busy", "first line (fixed)\nsecond line (fixed)"]);
    expect(w.record("f2e")).toMatchObject({ status: "skipped", reason: "edit applied to the queued turn" });
    expect(w.record("f1e")).toMatchObject({ status: "skipped", reason: "edit applied to the queued turn" });
    // Once answered, an edit of the folded message is an edit after the reply, not a new message.
    await w.say({ messageId: "f2e2", editOf: "f2", text: "again" });
    expect(w.record("f2e2")).toMatchObject({ status: "skipped", reason: "edited after reply" });
    expect(w.asked.length).toBe(2);
  });

  test("an edit of a late message queued in the runner keeps its [written …] line", async () => {
    const w = world();
    w.block();
    const busy = w.say({ messageId: "x", text: "busy" });
    await until(() => w.asked.length === 1, "the first run");
    const late = w.say({ messageId: "l", text: "old words", ts: Date.now() - 2 * 3_600_000 });
    await until(() => w.runner.sessionRuns("telegram:999").queued === 1, "the queued turn");
    await w.say({ messageId: "le", editOf: "l", text: "new words" });
    w.release();
    await Promise.all([busy, late]);
    expect(w.asked[1]!.message).toMatch(/^\[written .*, 2 h ago\]\nnew words$/);
  });
});

describe("commands that must not act", () => {
  test("a command written 3 h ago is ledgered skipped and carried out not at all", async () => {
    const w = world();
    await w.say({ messageId: "old", text: "/new", ts: Date.now() - 3 * 3_600_000 });
    expect(w.newSessions()).toBe(0);
    expect(w.tg.sent).toEqual([]);
    expect(w.record("old")).toMatchObject({ status: "skipped", reason: "late command, not carried out", command: "new" });
  });

  test("/stop@otherbot is plain text when the bot's name is known; /STOP@Clawdis_Bot is ours", async () => {
    expect(parseCommand("/stop@otherbot", "clawdis_bot")).toBeNull();
    expect(parseCommand("/STOP@Clawdis_Bot", "clawdis_bot")).toBe("stop");
    expect(parseCommand("/stop@otherbot")).toBe("stop");
    const w = world();
    await w.say({ messageId: "o", text: "/stop@otherbot" });
    expect(w.asked.map((t) => t.message)).toEqual(["/stop@otherbot"]);
  });
});
