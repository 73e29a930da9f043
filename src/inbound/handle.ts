import type { Logger } from "../log.ts";
import type { AgentFinal, AgentParams, LedgerRecord, ProviderName, SendParams, SendResult } from "../protocol/index.ts";
import type { InboundGate } from "./gate.ts";
import { pairingReplyText } from "./pairing.ts";

/** What the handler needs of an inbound message (the providers' InboundMessage plus what groups add). */
export interface ChatMessage {
  provider: ProviderName;
  chat: string;
  sender: string;
  senderNames: readonly string[];
  messageId: string;
  text: string;
  /** Default "private". */
  chatType?: "private" | "group";
  /** A mention of the bot, or a reply to / quote of one of its messages. */
  addressed?: boolean;
  /** A display name for the pairing list. */
  senderName?: string;
}

/** The ledger as the inbound path uses it (the gateway's Ledger). */
export interface InboundLedger {
  inbound(provider: ProviderName, providerMessageId: string): LedgerRecord | undefined;
  create(fields: Omit<LedgerRecord, "id" | "ts" | "updatedAt">, text?: string): Promise<LedgerRecord>;
  update(id: string, patch: Partial<Omit<LedgerRecord, "id" | "ts">>): Promise<LedgerRecord>;
}

export interface InboundDeps {
  ledger: InboundLedger;
  gate: InboundGate;
  send: (params: SendParams) => Promise<SendResult>;
  /** Start (or join, by key) an agent run whose reply is delivered through `via`. */
  startRun: (params: AgentParams, via: ProviderName) => Promise<{ runId: string; done: Promise<AgentFinal> }>;
  log: Logger;
  /**
   * Show "typing…" in the chat while its run works (issue 16 §3): called when the run
   * starts, returns the function that stops it, called once on the final whatever it is.
   */
  typing?: (provider: ProviderName, chat: string) => () => void;
}

/**
 * One message from a chat, to its end: a duplicate (providers replay) is `duplicate`;
 * the policy decides the rest — `skipped` with the reason, a pairing code sent to a
 * stranger (`skipped`, `pairing requested`), or an agent run in the chat's (or group's)
 * session whose reply goes back to the chat: `replied`, or `failed` with the reason.
 */
export async function handleChatMessage(deps: InboundDeps, msg: ChatMessage): Promise<void> {
  const log = deps.log;
  const base = { direction: "inbound" as const, provider: msg.provider, chat: msg.chat, providerMessageId: msg.messageId };
  const prior = deps.ledger.inbound(msg.provider, msg.messageId);
  if (prior) {
    log.info("ignored a duplicate message", { provider: msg.provider, messageId: msg.messageId, of: prior.id });
    await deps.ledger.create({ ...base, status: "duplicate", reason: `duplicate of ${prior.id}` });
    return;
  }
  const facts = { ...msg, chatType: msg.chatType ?? "private", addressed: msg.addressed ?? false };
  const decision = await deps.gate.admit(facts, msg.senderName);
  if (decision.action !== "run") {
    log.info(`ignored a message: ${decision.reason}`, { provider: msg.provider, sender: msg.sender, chat: msg.chat });
    await deps.ledger.create({ ...base, status: "skipped", reason: decision.reason }, msg.text);
    if (decision.action === "pair") {
      const message = pairingReplyText(msg.provider, decision.code);
      await deps
        .send({ to: msg.chat, message, provider: msg.provider, idempotencyKey: `pairing:${msg.provider}:${msg.messageId}` })
        .catch((err: Error) => log.warn("could not send the pairing code", { provider: msg.provider, chat: msg.chat, error: err.message }));
    }
    return;
  }
  const idempotencyKey = `inbound:${msg.provider}:${msg.messageId}`;
  const rec = await deps.ledger.create({ ...base, status: "received", idempotencyKey }, msg.text);
  let typing = deps.typing?.(msg.provider, msg.chat);
  const stopTyping = () => {
    typing?.();
    typing = undefined;
  };
  try {
    const run = await deps.startRun({ message: msg.text, to: msg.chat, sessionId: decision.sessionId, deliver: true, idempotencyKey }, msg.provider);
    await deps.ledger.update(rec.id, { runId: run.runId });
    const final = await run.done.finally(stopTyping);
    if (final.status === "ok" && final.delivery?.ok) await deps.ledger.update(rec.id, { status: "replied" });
    else {
      const why = final.status !== "ok" ? `agent run failed: ${final.summary}` : `reply not delivered: ${final.delivery?.error?.code}: ${final.delivery?.error?.message}`;
      await deps.ledger.update(rec.id, { status: "failed", reason: why });
    }
    log.info("handled a message", { provider: msg.provider, chat: msg.chat, runId: final.runId, status: final.status });
  } catch (err) {
    stopTyping();
    await deps.ledger.update(rec.id, { status: "failed", reason: (err as Error).message }).catch(() => {});
    log.warn("inbound run failed", { provider: msg.provider, chat: msg.chat, error: (err as Error).message });
  }
}
