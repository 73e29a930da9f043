/** Issue 16 §1/§2 as one flow: a chat message through the policy, the pairing store, the ledger, a run and delivery. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Delivery } from "../../src/delivery/index.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { InboundFlow, InboundGate, PairingStore, handleChatMessage, type ChatMessage, type ChatPolicy, type ChatRunParams } from "../../src/inbound/index.ts";
import { silentLogger } from "../../src/log.ts";
import type { SendParams } from "../../src/protocol/index.ts";
import { Providers } from "../../src/providers/index.ts";
import { FakeTelegram } from "../helpers/fake-provider.ts";

function world(policy: Partial<ChatPolicy>) {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-inbound-"));
  const ledger = new Ledger({ dir: join(dir, "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 });
  const tg = new FakeTelegram();
  const fast = { perChatMinIntervalMs: 0, perMinute: 10_000, jitterMs: 0 };
  const delivery = new Delivery({
    ledger,
    providers: new Providers([tg]),
    outboxDir: join(dir, "outbox"),
    pacing: { whatsapp: fast, telegram: fast },
    maxChars: { whatsapp: 4096, telegram: 4096 },
    log: silentLogger,
  });
  delivery.resume();
  const full: ChatPolicy = { dmPolicy: "allowlist", allowFrom: [], groups: { policy: "disabled", allow: [], requireMention: true }, ...policy };
  const gate = new InboundGate(() => full, new PairingStore(join(dir, "pairing")));
  const runs: ChatRunParams[] = [];
  let n = 0;
  const typing: string[] = [];
  const deps = {
    typing: (provider: string, chat: string) => {
      typing.push(`start ${provider}:${chat}`);
      return () => typing.push(`stop ${provider}:${chat}`);
    },
    ledger,
    gate,
    send: (p: SendParams) => delivery.send(p),
    log: silentLogger,
    // The agent's stand-in: replies with the message upper-cased, delivered like a real run.
    startRun: async (params: ChatRunParams, via: "telegram" | "whatsapp") => {
      runs.push(params);
      const runId = `run-${++n}`;
      return { runId, done: delivery.deliver(params, { runId, status: "ok", summary: params.message.toUpperCase() }, via, params.replyTo), cause: Promise.resolve("ok" as const) };
    },
  };
  let id = 0;
  let lastId = "";
  const say = (m: Partial<ChatMessage>) => {
    lastId = m.messageId ?? String(++id);
    return handleChatMessage(deps, { provider: "telegram", chat: "999", sender: "999", senderNames: ["@mallory"], messageId: lastId, text: "hello", ...m });
  };
  /** The record of the message said last. */
  const last = () => ledger.list({ direction: "inbound", limit: 1_000 }).find((r) => r.providerMessageId === lastId && r.status !== "duplicate")!;
  return { ledger, tg, gate, runs, say, last, typing, deps, delivery };
}

describe("handleChatMessage", () => {
  test("pairing from first message to approved run", async () => {
    const w = world({ dmPolicy: "pairing" });
    await w.say({ senderName: "Mallory" });
    expect(w.last()).toMatchObject({ status: "skipped", reason: "pairing requested" });
    expect(w.runs).toEqual([]);
    expect(w.tg.sent.length).toBe(1);
    const [req] = w.gate.pairing.list();
    expect(req).toMatchObject({ provider: "telegram", sender: "999", name: "Mallory" });
    expect(w.tg.sent[0]!.message).toContain(req!.code);

    await w.say({});
    expect(w.last()).toMatchObject({ status: "skipped", reason: "pairing pending" });
    expect(w.tg.sent.length).toBe(1);

    await w.gate.pairing.approve("telegram", req!.code);
    await w.say({ text: "now me" });
    expect(w.last()).toMatchObject({ status: "replied" });
    expect(w.runs.map((r) => r.sessionId)).toEqual(["telegram:999"]);
    expect(w.tg.sent.at(-1)).toMatchObject({ to: "999", message: "NOW ME" });
  });

  test("groups: an unmentioned line is skipped, a mention runs in the group's session; duplicates are recorded", async () => {
    const w = world({ groups: { policy: "allowlist", allow: ["-100"], requireMention: true } });
    await w.say({ chat: "-100", chatType: "group", messageId: "g1" });
    expect(w.last()).toMatchObject({ status: "skipped", reason: "not mentioned" });
    await w.say({ chat: "-200", chatType: "group", addressed: true, messageId: "g2" });
    expect(w.last()).toMatchObject({ status: "skipped", reason: "group not allowed" });
    await w.say({ chat: "-100", chatType: "group", addressed: true, messageId: "g3", text: "@bot hi" });
    expect(w.last()).toMatchObject({ status: "replied", chat: "-100" });
    expect(w.runs.map((r) => r.sessionId)).toEqual(["telegram:-100"]);
    // The reply answers the triggering message (replyTo reaches the provider).
    expect(w.tg.sent.at(-1)).toMatchObject({ to: "-100", replyTo: "g3" });
    const long = "A sentence that goes on and on. ".repeat(200);
    await w.say({ chat: "-100", chatType: "group", addressed: true, messageId: "g4", text: long });
    const parts = w.tg.sent.slice(-2);
    expect(parts.map((p) => p.replyTo)).toEqual(["g4", undefined]);
    await w.say({ chat: "-100", chatType: "group", addressed: true, messageId: "g3" });
    expect(w.ledger.list({ status: "duplicate" }).map((r) => [r.providerMessageId, r.reason])).toEqual([["g3", `duplicate of ${w.last().id}`]]);
    expect(w.runs.length).toBe(2);
  });

  test("typing shows while a run works and stops once on its final; never for skipped messages", async () => {
    const w = world({ allowFrom: ["*"] });
    await w.say({ text: "hi" });
    expect(w.typing).toEqual(["start telegram:999", "stop telegram:999"]);
    const v = world({});
    await v.say({});
    expect(v.typing).toEqual([]);
  });

  test("typing stops on a failed final too, and on a run that could not start", async () => {
    const w = world({ allowFrom: ["*"] });
    const failing = { ...w.deps, startRun: async () => ({ runId: "r", done: Promise.resolve({ runId: "r", status: "error" as const, summary: "timeout" }), cause: Promise.resolve("timeout" as const) }) };
    await handleChatMessage(failing, { provider: "telegram", chat: "5", sender: "5", senderNames: [], messageId: "f1", text: "x" });
    const refused = { ...w.deps, startRun: async () => Promise.reject(new Error("no slot")) };
    await handleChatMessage(refused, { provider: "telegram", chat: "6", sender: "6", senderNames: [], messageId: "f2", text: "x" });
    expect(w.typing).toEqual(["start telegram:5", "stop telegram:5", "start telegram:6", "stop telegram:6"]);
    expect(w.ledger.inbound("telegram", "f1")).toMatchObject({ status: "failed", reason: "agent run failed: timeout" });
    expect(w.ledger.inbound("telegram", "f2")).toMatchObject({ status: "failed", reason: "no slot" });
  });

  test("refused chat kinds and late offline messages are skipped with their reason; media too large is its own record", async () => {
    const w = world({ allowFrom: ["*"] });
    const flow = new InboundFlow(() => ({ albumWindowMs: 0, debounceMs: 0, lateAfterMs: 60_000, lateAnswerWindowMs: 60_000, lateNotice: false }));
    const deps = { ...w.deps, flow };
    const base = { provider: "telegram" as const, chat: "7", sender: "7", senderNames: [], text: "x" };
    await handleChatMessage(deps, { ...base, messageId: "s1", refused: "status update (status@broadcast): never answered" });
    await handleChatMessage(deps, { ...base, messageId: "s2", offline: true, ts: Date.now() - 120_000 });
    await handleChatMessage(deps, { ...base, messageId: "s3", mediaSkipped: "media too large", text: "caption" });
    expect(w.ledger.inbound("telegram", "s1")).toMatchObject({ status: "skipped", reason: "status update (status@broadcast): never answered" });
    expect(w.ledger.inbound("telegram", "s2")?.reason).toStartWith("too old");
    expect(w.ledger.inbound("telegram", "s3:media")).toMatchObject({ status: "skipped", reason: "media too large" });
    expect(w.ledger.inbound("telegram", "s3")).toMatchObject({ status: "replied" });
    expect(w.runs.map((r) => r.message)).toEqual(["caption"]);
  });

  test("a photo without a caption runs with its media, named [photo] (never an empty turn); an empty reply is not sent and says why", async () => {
    const w = world({ allowFrom: ["*"] });
    const media = [{ kind: "image" as const, mime: "image/jpeg", bytes: 3, path: "/tmp/x.jpg" }];
    await w.say({ text: "", media });
    expect(w.runs[0]).toMatchObject({ message: "[photo]", media });
    expect(w.last()).toMatchObject({ status: "replied", media });
    // The provider's own words for the file win over the kind (a voice note and its length).
    await w.say({ text: "", media: [{ ...media[0]!, kind: "audio" }], mediaLabel: "[voice note 0:12]" });
    expect(w.runs[1]?.message).toBe("[voice note 0:12]");
    // An agent that answers nothing: nothing is sent, and the record says why.
    const silent = {
      ...w.deps,
      startRun: async (params: ChatRunParams, via: "telegram" | "whatsapp") => ({
        runId: "run-empty",
        done: w.delivery.deliver(params, { runId: "run-empty", status: "ok", summary: "" }, via),
        cause: Promise.resolve("ok" as const),
      }),
    };
    const sentBefore = w.tg.sent.length;
    await handleChatMessage(silent, { provider: "telegram", chat: "999", sender: "999", senderNames: [], messageId: "empty-1", text: "", media });
    expect(w.ledger.inbound("telegram", "empty-1")).toMatchObject({ status: "failed", reason: "reply not delivered: INVALID_REQUEST: the agent's reply was empty: nothing was sent", media });
    expect(w.tg.sent.length).toBe(sentBefore);
  });

  test("allowlist: a stranger is skipped naming the key, and gets nothing", async () => {
    const w = world({});
    await w.say({});
    expect(w.last()).toMatchObject({ status: "skipped", reason: "sender not in telegram.allowFrom" });
    expect(w.tg.sent).toEqual([]);
  });
});
