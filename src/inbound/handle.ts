import type { RunCause } from "../agent/runner.ts";
import type { ToolUse } from "../agent/types.ts";
import type { Logger } from "../log.ts";
import type { InboundMessage } from "../providers/index.ts";
import type { AgentFinal, AgentParams, InboundMedia, LedgerRecord, LedgerStatus, ProviderName, SendParams, SendResult } from "../protocol/index.ts";
import type { InboundGate } from "./gate.ts";
import { pairingReplyText } from "./pairing.ts";
import { chatSessionId } from "./policy.ts";

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
export type ChatRunParams = AgentParams & { replyTo?: string; media?: InboundMedia[] };

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
  /** Messages delivered late (`offline`) older than this get no run (default: no limit). */
  retryWindowMs?: () => number;
  /**
   * Restart safety: `add` keeps a taken-in message until its run ends, `done` is told
   * the status it ended with (`replied`, `failed`, or `interrupted` by shutdown: the
   * keeper decides whether to keep it).
   */
  keep?: { add(recordId: string, msg: ChatMessage): Promise<void>; done(recordId: string, status: ChatOutcome): void };
}

/** How a message's run ended, as its ledger record says. */
export type ChatOutcome = Extract<LedgerStatus, "replied" | "failed" | "interrupted">;

const TOO_OLD = "too old: delivered late from the provider's offline queue, past inbound.retryWindowMs";

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
  const base = { direction: "inbound" as const, provider: msg.provider, chat: msg.chat, providerMessageId: msg.messageId };
  const skip = async (reason: string) => {
    log.info(`ignored a message: ${reason}`, { provider: msg.provider, sender: msg.sender, chat: msg.chat });
    await deps.ledger.create({ ...base, status: "skipped", reason, ...media(msg) }, msg.text);
  };
  try {
    const prior = deps.ledger.inbound(msg.provider, msg.messageId);
    if (prior) {
      log.info("ignored a duplicate message", { provider: msg.provider, messageId: msg.messageId, of: prior.id });
      await deps.ledger.create({ ...base, status: "duplicate", reason: `duplicate of ${prior.id}` });
      return;
    }
    if (msg.refused) return await skip(msg.refused);
    if (msg.text.trim() === "" && !msg.media?.length && !msg.fetchMedia && !msg.mediaSkipped) return;
    const decision = await deps.gate.admit({ ...msg, chatType: msg.chatType ?? "private", addressed: msg.addressed ?? false }, msg.senderName);
    if (decision.action !== "run") {
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
    const window = deps.retryWindowMs?.();
    if (msg.offline && window !== undefined && Date.now() - (msg.ts ?? 0) > window) return await skip(TOO_OLD);
    // Only now, for a message that will be answered, is its file downloaded.
    const { fetchMedia, ...rest } = msg;
    if (fetchMedia) msg = { ...rest, ...(await fetchMedia()) };
    if (msg.mediaSkipped) {
      // The file is refused, the words are not: the message goes on without it.
      await deps.ledger.create({ ...base, providerMessageId: `${msg.messageId}:media`, status: "skipped", reason: msg.mediaSkipped });
    }
    if (msg.text.trim() === "" && !msg.media?.length) return;
    const key = inboundRunKey(msg);
    const rec = await deps.ledger.create({ ...base, status: "received", idempotencyKey: key, ...media(msg) }, msg.text);
    await deps.keep?.add(rec.id, msg).catch((err: Error) => log.warn("could not keep the message for a restart", { error: err.message }));
    accepted?.();
    await runChatMessage(deps, rec.id, msg, key);
  } finally {
    accepted?.();
  }
}

/** The run's tool calls for its message's record: names, outcome, time; what went in and out only with storeText. */
async function toolsRecord(uses: Promise<ToolUse[]> | undefined, storeText: boolean): Promise<{ tools?: ToolUse[] }> {
  const list = (await uses) ?? [];
  if (list.length === 0) return {};
  return { tools: list.map(({ args, result, ...rest }) => (storeText ? { ...rest, args, ...(result !== undefined ? { result } : {}) } : rest)) };
}

const media = (msg: ChatMessage) => (msg.media?.length ? { media: msg.media } : {});

/**
 * Run the agent for a taken-in message (its record `received`) and ledger the outcome.
 * Typing shows meanwhile; in a group the reply answers the message. Also used to answer
 * a message a restart left unanswered (with its own key).
 */
export async function runChatMessage(deps: InboundDeps, recordId: string, msg: ChatMessage, idempotencyKey: string): Promise<void> {
  const log = deps.log;
  let typing = deps.typing?.(msg.provider, msg.chat);
  const stopTyping = () => {
    typing?.();
    typing = undefined;
  };
  let outcome: ChatOutcome = "failed";
  let used: Promise<ToolUse[]> | undefined;
  try {
    const params: ChatRunParams = {
      message: msg.text,
      to: msg.chat,
      sessionId: chatSessionId(msg),
      deliver: true,
      idempotencyKey,
      ...(msg.chatType === "group" ? { replyTo: msg.messageId } : {}),
      ...media(msg),
    };
    const run = await deps.startRun(params, msg.provider);
    used = run.tools;
    await deps.ledger.update(recordId, { runId: run.runId });
    const final = await run.done.finally(stopTyping);
    // Decided on the run's typed cause: shutdown cut it short (answered after the restart).
    outcome = final.status === "ok" && final.delivery?.ok ? "replied" : (await run.cause) === "shutdown" ? "interrupted" : "failed";
    const tools = await toolsRecord(used, deps.storeText?.() ?? false);
    if (outcome === "replied") await deps.ledger.update(recordId, { status: "replied", ...tools });
    else {
      const reason = final.status !== "ok" ? `agent run failed: ${final.summary}` : `reply not delivered: ${final.delivery?.error?.code}: ${final.delivery?.error?.message}`;
      await deps.ledger.update(recordId, { status: outcome, reason, ...tools });
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
  }
  deps.keep?.done(recordId, outcome);
}
