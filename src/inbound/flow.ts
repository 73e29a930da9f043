/**
 * Issue 21 §3–§6 as the inbound path uses them: the chat's line (order.ts), albums and
 * bursts (bursts.ts), late messages (late.ts) and view-once media. One object per
 * gateway, created in server.ts; `handle.ts` calls it at a few fixed points.
 */
import type { Logger } from "../log.ts";
import type { InboundMedia, LedgerRecord, ProviderName, SendParams, SendResult } from "../protocol/index.ts";
import type { InboundMessage } from "../providers/types.ts";
import { Bursts, type BurstMember } from "./bursts.ts";
import { lateness, LateNotices, lateNoticeText, TOO_OLD, writtenPhrase, type LateSettings } from "./late.ts";
import { ChatOrder } from "./order.ts";
import { PendingTurns } from "./pending-turns.ts";
import { VIEW_ONCE, VIEW_ONCE_NOTICE } from "./placeholders.ts";

/** `inbound.*` keys of issue 21. */
export interface FlowSettings extends LateSettings {
  albumWindowMs: number;
  debounceMs: number;
}

/** A message as the flow sees it (the handler's ChatMessage, structurally). */
type FlowMessage = Pick<InboundMessage, "provider" | "chat" | "sender" | "messageId" | "text" | "extras"> & {
  ts?: number;
  media?: InboundMedia[];
  fetchMedia?: InboundMessage["fetchMedia"];
};

/** What the flow needs of the handler's deps. */
export interface FlowDeps {
  ledger: { update(id: string, patch: Partial<Omit<LedgerRecord, "id" | "ts">>): Promise<LedgerRecord> };
  send: (params: SendParams) => Promise<SendResult>;
  log: Logger;
}

export class InboundFlow {
  readonly order = new ChatOrder();
  /** Messages taken in and not yet handed to the runner (what /stop, /new, /status and edits also reach). */
  readonly pending = new PendingTurns();
  private readonly bursts = new Bursts<FlowMessage>();
  private readonly notices = new LateNotices();

  constructor(readonly settings: () => FlowSettings) {}

  /**
   * A message the policy lets in, before anything is fetched: view-once media and
   * messages too old to answer end here (`skip` records them; the chat gets one notice);
   * a late one goes on carrying `writtenAt`. Null when it ends here.
   */
  async screen<M extends FlowMessage>(deps: FlowDeps, msg: M, skip: (reason: string) => Promise<void>, now = Date.now()): Promise<M | null> {
    const key = `${msg.provider}:${msg.chat}`;
    if (msg.extras?.viewOnce) {
      await skip(VIEW_ONCE);
      this.notify(deps, msg, VIEW_ONCE_NOTICE, "view-once");
      return null;
    }
    const s = this.settings();
    const late = lateness(msg.ts, now, s);
    if (late.kind === "on time") {
      this.notices.onTime(key);
      return msg;
    }
    if (late.kind === "late") return { ...msg, extras: { ...msg.extras, writtenAt: late.writtenAt } };
    await skip(TOO_OLD);
    const text = lateNoticeText(s, late.writtenAt, now);
    if (text !== null && this.notices.due(key, now)) this.notify(deps, msg, text, "late");
    return null;
  }

  /** A short message from the gateway itself, ledgered and paced as any send. */
  private notify(deps: FlowDeps, msg: FlowMessage, message: string, what: string): void {
    void deps
      .send({ to: msg.chat, message, provider: msg.provider as ProviderName, idempotencyKey: `${what}:${msg.provider}:${msg.messageId}` })
      .catch((err: Error) => deps.log.warn(`could not send the ${what} notice`, { provider: msg.provider, chat: msg.chat, error: err.message }));
  }

  /** Join the album or burst the message belongs to (synchronous: arrival order), or null when it is a turn of its own. */
  join(msg: FlowMessage, epoch = 0): BurstMember<FlowMessage> | null {
    const s = this.settings();
    // A /stop or /new closes the door on what was collected before it: later items start anew.
    const who = `${msg.provider}:${msg.chat}:${msg.sender}${epoch ? `:${epoch}` : ""}`;
    const album = msg.extras?.albumId;
    if (album !== undefined) return s.albumWindowMs > 0 ? this.bursts.join(`${who}:album:${album}`, s.albumWindowMs) : null;
    if (s.debounceMs > 0 && !msg.fetchMedia && !msg.media?.length) return this.bursts.join(`${who}:text`, s.debounceMs);
    return null;
  }

  /**
   * The message (record `recordId`) waits for its burst to close: the first item comes
   * back as the whole turn; the others are ledgered `skipped`, `merged into <record id>`,
   * and come back null (`fold` is told, so the restart keeper lets go of them). A message
   * dropped meanwhile (`/stop`) says so instead; `text` gives each item's words as they are now (edits).
   */
  async settle<M extends FlowMessage>(
    deps: FlowDeps,
    member: BurstMember<FlowMessage>,
    recordId: string,
    msg: M,
    fold: () => void,
    now?: { dropped: () => string | undefined; text: (items: FlowMessage[]) => string },
  ): Promise<M | null> {
    const out = await member.settle(recordId, msg);
    if (!out.head) {
      await deps.ledger.update(recordId, { status: "skipped", reason: now?.dropped() ?? `merged into ${out.foldedInto}` });
      fold();
      return null;
    }
    if (out.items.length === 1) return msg;
    const media = out.items.flatMap((m) => m.media ?? []);
    deps.log.info("merged messages into one turn", { provider: msg.provider, chat: msg.chat, items: out.items.length, record: recordId });
    const text = now ? now.text(out.items) : out.items.map((m) => m.text).filter((t) => t.trim() !== "").join("\n");
    return { ...msg, text, ...(media.length ? { media } : {}) };
  }
}

/** The agent's input for a message: a late one starts with when it was written (issue 21 §5). */
export function agentInput(msg: { text: string; extras?: InboundMessage["extras"] }, now = Date.now()): string {
  const at = msg.extras?.writtenAt;
  return at === undefined ? msg.text : `[${writtenPhrase(at, now)}]\n${msg.text}`;
}
