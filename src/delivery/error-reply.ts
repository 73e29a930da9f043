import type { RunCause } from "../agent/runner.ts";
import { systemClock, type Clock } from "../core/clock.ts";
import type { Logger } from "../log.ts";
import { GatewayError, type AgentFinal, type ProviderName, type SendResult } from "../protocol/index.ts";
import type { ProviderSendParams } from "../providers/index.ts";
import { explain } from "./records.ts";

/** How a chat message's run failed, as the inbound path saw it. */
export interface RunFailure {
  final?: AgentFinal;
  cause?: RunCause;
  error?: unknown;
}

/** The short, human `{reason}`: what went wrong as the person in the chat can take it — never a stack, an address or a key. */
export function failurePhrase(f: RunFailure): string {
  const timedOut = f.cause === "timeout" || (f.error instanceof GatewayError && f.error.code === "AGENT_TIMEOUT");
  if (timedOut) return "the assistant timed out";
  if (f.error !== undefined || !f.final || f.final.status !== "ok") return "the assistant ran into an error";
  if (f.final.summary.trim() === "") return "the assistant's answer was empty";
  return "the reply could not be delivered";
}

export interface ErrorReplyOptions {
  /** `inbound.errorReply`: the text with `{reason}`, or `false` for none. */
  template: () => string | false;
  /** `inbound.errorReplyCooldownMs`. */
  cooldownMs: () => number;
  /** Delivery's send: paced, ledgered and retried like any other. */
  send: (params: ProviderSendParams) => Promise<SendResult>;
  log: Logger;
  clock?: Clock;
  /** Chats remembered for the cooldown (default 10,000; the oldest are forgotten first). */
  maxChats?: number;
}

/**
 * "Never silent": a chat whose message could not be answered is told so in one short
 * plain message — at most one per chat per cooldown (measured on the monotonic clock),
 * so an outage does not answer every message with an apology.
 */
export class ErrorReplies {
  /** `<provider>:<chat>` → when its last error reply was decided (monotonic), oldest first. */
  private readonly last = new Map<string, number>();

  constructor(private readonly opts: ErrorReplyOptions) {}

  /** From the `inbound` config section in force (read at each failure, so a reload applies). */
  static fromConfig(inbound: () => { errorReply: string | false; errorReplyCooldownMs: number }, send: ErrorReplyOptions["send"], log: Logger): ErrorReplies {
    return new ErrorReplies({ template: () => inbound().errorReply, cooldownMs: () => inbound().errorReplyCooldownMs, send, log });
  }

  /** Tell the chat of `msg` that its run failed, unless off or within the chat's cooldown. Never throws; the send goes on in the background. */
  notify(msg: { provider: ProviderName; chat: string; messageId: string; chatType?: "private" | "group" }, failure: RunFailure): "sent" | "off" | "cooldown" | "maybe delivered" {
    const template = this.opts.template();
    if (template === false) return "off";
    // The reply's answer was lost (it may be in the chat): an apology after it would only confuse.
    if ((failure.final?.delivery?.error?.details as { outcome?: string } | undefined)?.outcome === "unknown") return "maybe delivered";
    const now = (this.opts.clock ?? systemClock).mono();
    const cooldown = this.opts.cooldownMs();
    this.forget(now, cooldown);
    const chatKey = `${msg.provider}:${msg.chat}`;
    const last = this.last.get(chatKey);
    if (last !== undefined && now - last < cooldown) {
      this.opts.log.info("no error reply: one went to this chat within inbound.errorReplyCooldownMs", { provider: msg.provider, chat: msg.chat });
      return "cooldown";
    }
    this.last.delete(chatKey);
    this.last.set(chatKey, now);
    const reason = failurePhrase(failure);
    const params: ProviderSendParams = {
      to: msg.chat,
      provider: msg.provider,
      message: template.replaceAll("{reason}", reason),
      // One per message, across restarts too: a message run again after a restart is not apologised for twice.
      idempotencyKey: `error-reply:${msg.provider}:${msg.messageId}`,
      ...(msg.chatType === "group" ? { replyTo: msg.messageId } : {}),
    };
    this.opts.log.info("telling the chat its message could not be answered", { provider: msg.provider, chat: msg.chat, reason });
    void this.opts.send(params).catch((err) => this.opts.log.warn("could not send the error reply", { provider: msg.provider, chat: msg.chat, error: explain(err) }));
    return "sent";
  }

  /** Entries past their cooldown, and the oldest beyond the bound. */
  private forget(now: number, cooldown: number): void {
    for (const [k, at] of this.last) {
      if (now - at < cooldown && this.last.size <= (this.opts.maxChats ?? 10_000)) break;
      this.last.delete(k);
    }
  }
}
