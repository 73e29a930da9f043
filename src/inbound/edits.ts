import type { ChatMessage, InboundDeps } from "./handle.ts";

export const EDIT_REASONS = {
  applied: "edit applied to the queued turn",
  afterReply: "edited after reply",
  afterStart: "edited after its run started",
} as const;

/** The prefix of an edit answered as a new turn (`inbound.answerEdits: true`). */
export const EDITED_PREFIX = "(edited) ";

/**
 * An edited message (`msg.editOf` names the original), once the sender is let in. While
 * the original's run waits in the queue, its text is replaced (`skipped`, `edit applied
 * to the queued turn`). Once it ran or is running, the edit is `skipped` (`edited after
 * reply`), or with `inbound.answerEdits` goes on as a new turn prefixed "(edited)".
 * An edit of a message never taken in (unseen, or skipped) is an ordinary new message.
 * Returns the message to go on with, or null when the edit was settled here.
 */
export async function takeEdit(deps: InboundDeps, msg: ChatMessage): Promise<ChatMessage | null> {
  if (!msg.editOf) return msg;
  const orig = deps.ledger.inbound(msg.provider, msg.editOf);
  // Still in flight (collected, downloading, queued, or running): its part of the turn is what changes.
  const live = deps.flow?.pending.find(`${msg.provider}:${msg.editOf}`);
  // A message folded into another's turn was taken in: never a new message of its own.
  const folded = orig?.status === "skipped" && orig.reason?.startsWith("merged into ");
  if (!live && (!orig || (orig.status === "skipped" && !folded) || orig.status === "duplicate")) return msg;
  const skip = async (reason: string) => {
    deps.log.info(`an edited message: ${reason}`, { provider: msg.provider, chat: msg.chat, of: orig?.id });
    await deps.ledger.create({ direction: "inbound", provider: msg.provider, chat: msg.chat, providerMessageId: msg.messageId, status: "skipped", reason }, msg.text);
    return null;
  };
  // The record may still say `received` for a moment after its reply went out: the run's state decides.
  // Taken in but not handed to the runner yet (its file downloading): too late to change, not yet answered.
  const run = live ? await live.edit(msg.text, deps.editQueued) : orig!.status !== "received" ? "ended" : orig!.runId ? await deps.editQueued?.(orig!.runId, msg.text) : "started";
  if (run === "replaced") return skip(EDIT_REASONS.applied);
  if (!deps.answerEdits?.()) return skip(run === "started" ? EDIT_REASONS.afterStart : EDIT_REASONS.afterReply);
  return { ...msg, text: `${EDITED_PREFIX}${msg.text}` };
}
