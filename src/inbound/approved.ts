import type { ProviderName } from "../protocol/index.ts";
import { runChatMessage, inboundRunKey, type ChatMessage, type InboundDeps } from "./handle.ts";

/** What a newly approved sender is told. */
export const APPROVED_TEXT = "You're approved — ask away.";

/** The message that got a stranger a code is answered on approval only while it is this young. */
export const HELD_MAX_AGE_MS = 60 * 60_000;

/** The message a stranger wrote when they got their code, kept with the request (no files). */
export type HeldMessage = Pick<ChatMessage, "provider" | "chat" | "sender" | "senderNames" | "messageId" | "text"> & {
  ts: number;
  senderName?: string;
  mediaLabel?: string;
};

/** What is kept of a stranger's message for the approval (its file is never fetched for a stranger). */
export function holdMessage(msg: ChatMessage): HeldMessage {
  return {
    provider: msg.provider,
    chat: msg.chat,
    sender: msg.sender,
    senderNames: [...msg.senderNames],
    messageId: msg.messageId,
    text: msg.text,
    ts: msg.ts ?? Date.now(),
    ...(msg.senderName ? { senderName: msg.senderName } : {}),
    ...(msg.mediaLabel ? { mediaLabel: msg.mediaLabel } : {}),
  };
}

/**
 * A pairing code was approved: the sender is told so in their chat, then the message
 * that got them the code is answered (its `skipped` record goes back to `received`, then
 * `replied`), when it is younger than an hour. Never throws: failures are logged.
 */
export async function welcomeApproved(deps: InboundDeps, provider: ProviderName, code: string, sender: string, held?: HeldMessage): Promise<void> {
  const log = deps.log;
  const chat = held?.chat ?? sender;
  try {
    await deps.send({ to: chat, message: APPROVED_TEXT, provider, idempotencyKey: `approved:${provider}:${code}` });
  } catch (err) {
    log.warn("could not tell an approved sender", { provider, chat, error: (err as Error).message });
  }
  if (!held || Date.now() - held.ts > HELD_MAX_AGE_MS) return;
  try {
    const msg: ChatMessage = { ...held, chatType: "private", addressed: true, text: held.text.trim() ? held.text : (held.mediaLabel ?? held.text) };
    if (!msg.text.trim()) return;
    const key = `${inboundRunKey(msg)}:approved`;
    const prior = deps.ledger.inbound(provider, held.messageId);
    const rec = prior
      ? await deps.ledger.update(prior.id, { status: "received", reason: "pairing approved: answered now", idempotencyKey: key })
      : await deps.ledger.create({ direction: "inbound", provider, chat, providerMessageId: held.messageId, status: "received", idempotencyKey: key }, msg.text);
    await runChatMessage(deps, rec.id, msg, key);
  } catch (err) {
    log.warn("could not answer an approved sender's message", { provider, chat, error: (err as Error).message });
  }
}
