import type { RunCause } from "../agent/runner.ts";
import type { ToolUse } from "../agent/types.ts";
import type { Logger } from "../log.ts";
import type { InboundMessage } from "../providers/index.ts";
import type { AgentFinal, AgentParams, InboundMedia, LedgerRecord, LedgerStatus, ProviderName, SendParams, SendResult } from "../protocol/index.ts";
import { labelOfKind } from "../media/label.ts";
import { holdMessage } from "./approved.ts";
import { answerCommand, parseCommand, type CommandDeps } from "./commands.ts";
import { takeEdit } from "./edits.ts";
import { agentInput, type InboundFlow } from "./flow.ts";
import type { InboundGate } from "./gate.ts";
import { orderKey, type ChatSlot } from "./order.ts";
import type { PendingMessage } from "./pending-turns.ts";
import { oversizedText, withPlaceholder } from "./placeholders.ts";
import { pairingReplyText } from "./pairing.ts";
import { chatSessionId } from "./policy.ts";
import type { TurnContext } from "./turn-context.ts";

/**
 * What the handler needs of an inbound message: the providers' InboundMessage, where a
 * message kept across a restart may lack `chatType` (default "private"), `addressed` and `ts`.
 */
export type ChatMessage = Omit<InboundMessage, "senderNames" | "chatType" | "addressed" | "ts"> & {
  senderNames: readonly string[];
  chatType?: InboundMessage["chatType"];
  addressed?: boolean;
  ts?: number;
};

/** The ledger as the inbound path uses it (the gateway's Ledger). */
export interface InboundLedger {
  inbound(provider: ProviderName, providerMessageId: string): LedgerRecord | undefined;
  create(fields: Omit<LedgerRecord, "id" | "ts" | "updatedAt">, text?: string): Promise<LedgerRecord>;
  update(id: string, patch: Partial<Omit<LedgerRecord, "id" | "ts">>): Promise<LedgerRecord>;
}

/** Parameters of a run started for a chat message: the agent's, plus the message its reply answers (groups). */
export type ChatRunParams = AgentParams & { replyTo?: string; media?: InboundMedia[]; context?: string };

export interface InboundDeps {
  ledger: InboundLedger;
  gate: InboundGate;
  send: (params: SendParams) => Promise<SendResult>;
  /** Start (or join, by key) an agent run whose reply is delivered through `via`. */
  startRun: (
    params: ChatRunParams,
    via: ProviderName,
  ) => Promise<{ runId: string; done: Promise<AgentFinal>; cause: Promise<RunCause>; tools?: Promise<ToolUse[]> }>;
  /** `ledger.storeText`: tool arguments and results go into the record only when true. */
  storeText?: () => boolean;
  log: Logger;
  /**
   * Show "typing…" in the chat while its run works (issue 16 §3): called when the run
   * starts, returns the function that stops it, called once on the final whatever it is.
   */
  typing?: (provider: ProviderName, chat: string) => () => void;
  /** Issue 21: the chat's line, albums and bursts, late messages, view-once (src/inbound/flow.ts). */
  flow?: InboundFlow;
  /**
   * Restart safety: `add` keeps a taken-in message until its run ends, `done` is told
   * the status it ended with (`replied`, `failed`, or `interrupted` by shutdown: the
   * keeper decides whether to keep it).
   */
  /** What the agent is told besides the words (sender, chat, quote, group lines; voice notes transcribed). */
  context?: Pick<TurnContext, "observe" | "prepare">;
  keep?: { add(recordId: string, msg: ChatMessage): Promise<void>; done(recordId: string, status: ChatOutcome): void };
  /** Chat commands (`/new`, `/stop`, `/status`, `/help`), answered by the gateway; absent: plain text. */
  commands?: CommandDeps;
  /** An edit reaches a run still queued: it takes the new text; else the run is executing (`started`) or over. */
  editQueued?: (runId: string, text: string) => Promise<"replaced" | "started" | "ended">;
  /** `inbound.answerEdits`: an edit of an answered message is a new turn. */
  answerEdits?: () => boolean;
  /** A read receipt for a message that starts a run (where the provider has them and the config wants them). */
  markRead?: (msg: ChatMessage) => void;
  /** A message's run failed (not cut short by shutdown), typing stopped: the chat is told (`inbound.errorReply`, src/delivery/error-reply.ts). */
  runFailed?: (msg: ChatMessage, failure: { final?: AgentFinal; cause?: RunCause; error?: unknown }) => void;
}

/** How a message's run ended, as its ledger record says. */
export type ChatOutcome = Extract<LedgerStatus, "replied" | "failed" | "interrupted">;

/** The run key of a message: one run per message, whatever replays it. */
export const inboundRunKey = (msg: Pick<ChatMessage, "provider" | "messageId">) => `inbound:${msg.provider}:${msg.messageId}`;

/**
 * One message from a chat, to its end: a duplicate (providers replay) is `duplicate`;
 * a chat kind never answered, a late message or the policy's refusal is `skipped` with
 * the reason; a stranger under pairing gets one code (`skipped`, `pairing requested`);
 * else an agent run in the chat's (or group's) session whose reply goes back to the chat
 * (answering the message, in a group): `replied`, or `failed` with the reason.
 * Resolves once the run ended (`runChatMessage`); `accepted` once the message is on disk.
 */
export async function handleChatMessage(deps: InboundDeps, msg: ChatMessage, accepted?: () => void): Promise<void> {
  const log = deps.log;
  // Its place in the chat's line is taken now, before any await (issue 21 §3).
  const slot = deps.flow?.order.take(orderKey(msg));
  let member: ReturnType<InboundFlow["join"]> = null;
  let pending: PendingMessage | undefined;
  const base = { direction: "inbound" as const, provider: msg.provider, chat: msg.chat, providerMessageId: msg.messageId };
  const skip = async (reason: string) => {
    log.info(`ignored a message: ${reason}`, { provider: msg.provider, sender: msg.sender, chat: msg.chat });
    await deps.ledger.create({ ...base, status: "skipped", reason, ...media(msg), ...kind(msg) }, msg.text);
  };
  try {
    const prior = deps.ledger.inbound(msg.provider, msg.messageId);
    if (prior) {
      log.info("ignored a duplicate message", { provider: msg.provider, messageId: msg.messageId, of: prior.id });
      await deps.ledger.create({ ...base, status: "duplicate", reason: `duplicate of ${prior.id}` });
      return;
    }
    if (msg.refused) return await skip(msg.refused);
    if (msg.extras?.ignored) return await skip(msg.extras.ignored);
    if (msg.extras?.placeholder) msg = { ...msg, text: withPlaceholder(msg.text, msg.extras) };
    if (msg.text.trim() === "" && !msg.media?.length && !msg.fetchMedia && !msg.mediaSkipped && !msg.extras?.viewOnce) return;
    const decision = await deps.gate.admit({ ...msg, chatType: msg.chatType ?? "private", addressed: msg.addressed ?? false }, msg.senderName, holdMessage(msg));
    if (decision.action !== "run") {
      if (decision.action === "skip") deps.context?.observe(msg, decision.reason);
      await skip(decision.reason);
      accepted?.();
      if (decision.action === "pair") {
        const message = pairingReplyText(msg.provider, decision.code);
        await deps
          .send({ to: msg.chat, message, provider: msg.provider, idempotencyKey: `pairing:${msg.provider}:${msg.messageId}` })
          .then(() => deps.gate.pairing.markCodeSent(msg.provider, decision.code))
          .catch((err: Error) => log.warn("could not send the pairing code", { provider: msg.provider, chat: msg.chat, error: err.message }));
      }
      return;
    }
    if (msg.editOf) {
      const edited = await takeEdit(deps, msg);
      if (!edited) return;
      msg = edited;
    }
    if (deps.flow) {
      // Late messages first: a command written hours ago does not stop today's run.
      const screened = await deps.flow.screen(deps, msg, skip);
      if (!screened) return;
      msg = screened;
    }
    // Only a text-only message is a command: an album's caption is the album's words (one album, one answer).
    const command = deps.commands && !msg.editOf && isTextOnly(msg) ? parseCommand(msg.text, deps.commands.botName?.(msg.provider)) : null;
    if (command) return await answerCommand(deps, deps.commands!, msg, command, accepted);
    if (deps.flow) {
      // Seen by /stop, /new, /status and edits until its run is handed over (src/inbound/pending-turns.ts).
      pending = deps.flow.pending.add(chatSessionId(msg), pendingKey(msg), msg.text);
      member = deps.flow.join(msg, deps.flow.pending.epoch(pending.session));
    }
    // Only now, for a message that will be answered, is its file downloaded.
    const { fetchMedia, ...rest } = msg;
    if (fetchMedia) {
      const { oversized, ...got } = await fetchMedia();
      msg = { ...rest, ...got };
      if (oversized) msg = { ...msg, text: [msg.text, oversizedText(oversized)].filter((t) => t.trim() !== "").join("\n") };
      if (pending && !pending.edited) pending.text = msg.text;
    }
    if (msg.mediaSkipped) {
      // The file is refused, the words are not: the message goes on without it.
      await deps.ledger.create({ ...base, providerMessageId: `${msg.messageId}:media`, status: "skipped", reason: msg.mediaSkipped });
    }
    if (msg.text.trim() === "" && !msg.media?.length) return;
    const key = inboundRunKey(msg);
    if (pending?.droppedBy && !member) return await skip(pending.droppedBy);
    const rec = await deps.ledger.create({ ...base, status: "received", idempotencyKey: key, ...media(msg), ...kind(msg) }, msg.text);
    const keep = (m: ChatMessage) => deps.keep?.add(rec.id, m).catch((err: Error) => log.warn("could not keep the message for a restart", { error: err.message }));
    await keep(msg);
    accepted?.();
    deps.markRead?.(msg);
    if (member) {
      // An album or burst: the first item runs as the whole turn, the others are folded into it (issue 21 §4).
      const p = pending!;
      const turn = await deps.flow!.settle(deps, member, rec.id, msg, () => deps.keep?.done(rec.id, "replied"), {
        dropped: () => p.droppedBy,
        text: (items) => {
          const parts = items.map((m) => deps.flow!.pending.find(pendingKey(m as ChatMessage)));
          p.fold(parts.filter((m) => m !== undefined));
          // Each item's words as they are now (an edit while collected); its own text if it already let go.
          return items.map((m, i) => parts[i]?.text ?? m.text).filter((t) => t.trim() !== "").join("\n");
        },
      });
      if (!turn) return;
      if (turn !== msg) {
        msg = turn;
        await deps.ledger.update(rec.id, media(msg));
        await keep(msg);
      }
    }
    await runChatMessage(deps, rec.id, msg, key, slot, pending);
  } finally {
    pending?.done();
    member?.abandon();
    slot?.release();
    accepted?.();
  }
}

/** A message's key among the pending ones (the ledger's: provider and message id). */
const pendingKey = (msg: Pick<ChatMessage, "provider" | "messageId">) => `${msg.provider}:${msg.messageId}`;

/** No file, no album: only such a message can be a chat command. */
const isTextOnly = (msg: ChatMessage) => !msg.media?.length && !msg.fetchMedia && !msg.mediaSkipped && msg.extras?.albumId === undefined;

/** The run's tool calls for its message's record: names, outcome, time; what went in and out only with storeText. */
async function toolsRecord(uses: Promise<ToolUse[]> | undefined, storeText: boolean): Promise<{ tools?: ToolUse[] }> {
  const list = (await uses) ?? [];
  if (list.length === 0) return {};
  return { tools: list.map(({ args, result, ...rest }) => (storeText ? { ...rest, args, ...(result !== undefined ? { result } : {}) } : rest)) };
}

const media = (msg: ChatMessage) => (msg.media?.length ? { media: msg.media } : {});
/** What the message was when it held no text or file (issue 21 §6). */
const kind = (msg: ChatMessage) => (msg.extras?.placeholder ? { kind: msg.extras.placeholder.kind } : {});

/** The agent's text: the message's words, else its file as words (`[photo]`), never "". */
const turnText = (msg: ChatMessage) => (msg.text.trim() || !msg.media?.length ? msg.text : (msg.mediaLabel ?? labelOfKind(msg.media[0]!.kind)));

/**
 * Run the agent for a taken-in message (its record `received`) and ledger the outcome.
 * Typing shows meanwhile; in a group the reply answers the message. Also used to answer
 * a message a restart left unanswered (with its own key).
 */
export async function runChatMessage(
  deps: InboundDeps,
  recordId: string,
  msg: ChatMessage,
  idempotencyKey: string,
  slot?: ChatSlot,
  pending?: PendingMessage,
): Promise<void> {
  const log = deps.log;
  let typing = deps.typing?.(msg.provider, msg.chat);
  const stopTyping = () => {
    typing?.();
    typing = undefined;
  };
  let outcome: ChatOutcome = "failed";
  let used: Promise<ToolUse[]> | undefined;
  try {
    const turn = await deps.context?.prepare(msg);
    const params: ChatRunParams = {
      // A transcribed voice note speaks for itself; otherwise the words, or a placeholder for a file without any (and a late message's age).
      message: agentInput({ ...msg, text: turn && turn.message !== msg.text ? turn.message : turnText(msg) }),
      ...(turn ? { context: turn.context } : {}),
      to: msg.chat,
      sessionId: chatSessionId(msg),
      deliver: true,
      idempotencyKey,
      ...(msg.chatType === "group" ? { replyTo: msg.messageId } : {}),
      ...media(msg),
    };
    // Runs of one chat start in the order its messages arrived (issue 21 §3).
    await slot?.ready;
    if (pending) {
      // While it waited: /stop or /new dropped it, or an edit changed a part of its words.
      if (pending.droppedBy) {
        stopTyping();
        slot?.release();
        await deps.ledger.update(recordId, { status: "skipped", reason: pending.droppedBy });
        deps.keep?.done(recordId, "replied");
        return;
      }
      const first = params.message;
      pending.render = (text) => (text === msg.text ? first : agentInput({ ...msg, text: turnText({ ...msg, text }) }));
      if (pending.members.some((m) => m.edited)) params.message = pending.render(pending.joined());
    }
    const starting = deps.startRun(params, msg.provider).finally(() => slot?.release());
    pending?.hand(starting.then((r) => r.runId));
    const run = await starting;
    used = run.tools;
    await deps.ledger.update(recordId, { runId: run.runId });
    const final = await run.done.finally(stopTyping);
    // Decided on the run's typed cause: shutdown cut it short (answered after the restart).
    outcome = final.status === "ok" && final.delivery?.ok ? "replied" : (await run.cause) === "shutdown" ? "interrupted" : "failed";
    const tools = await toolsRecord(used, deps.storeText?.() ?? false);
    if (outcome === "replied") await deps.ledger.update(recordId, { status: "replied", ...tools });
    else {
      const stopped = final.status !== "ok" && (await run.cause) === "stopped";
      const reason = stopped
        ? final.summary.startsWith("stopped by ") ? final.summary : "stopped by /stop"
        : final.status !== "ok"
          ? `agent run failed: ${final.summary}`
          : `reply not delivered: ${final.delivery?.error?.code}: ${final.delivery?.error?.message}`;
      await deps.ledger.update(recordId, { status: outcome, reason, ...tools });
      // A run the owner stopped is answered by /stop's own confirmation, not an error reply.
      if (outcome === "failed" && !stopped) deps.runFailed?.(msg, { final, cause: await run.cause });
    }
    log.info("handled a message", { provider: msg.provider, chat: msg.chat, runId: final.runId, status: final.status });
  } catch (err) {
    stopTyping();
    outcome = "failed";
    const reason = (err as Error).message;
    // A run past its deadline still made its calls: they belong in the record too.
    const tools = await toolsRecord(used, deps.storeText?.() ?? false);
    await deps.ledger.update(recordId, { status: "failed", reason, ...tools }).catch(() => {});
    log.warn("inbound run failed", { provider: msg.provider, chat: msg.chat, error: reason });
    deps.runFailed?.(msg, { error: err });
  }
  deps.keep?.done(recordId, outcome);
}
