import type { ProviderName } from "../protocol/index.ts";
import type { HeldMessage } from "./approved.ts";
import { PAIRING_MAX_PENDING, PairingStore, newPairingCode } from "./pairing.ts";
import { decide, REASONS, type ChatPolicy, type Decision, type InboundFacts } from "./policy.ts";

/**
 * The door for inbound messages: the pure `decide` over the provider's current policy
 * and the pairing store, with the outcome recorded (a new pairing request is stored
 * before its code is handed out). The policy is read per message, so a config reload applies at once.
 */
export class InboundGate {
  constructor(
    private readonly policy: (provider: ProviderName) => ChatPolicy,
    readonly pairing: PairingStore,
  ) {}

  /** `held`: the message, kept with a new pairing request so the approval can answer it. */
  async admit(msg: InboundFacts, name?: string, held?: HeldMessage): Promise<Decision> {
    const ids = senderIds(msg);
    const pending = this.pairing.pendingFor(msg.provider, ids);
    const approved = this.pairing.isApproved(msg.provider, ids);
    const decision = decide(msg, this.policy(msg.provider), {
      approved,
      pending: pending !== undefined,
      pendingCount: this.pairing.pendingCount(msg.provider),
      maxPending: PAIRING_MAX_PENDING,
      code: newPairingCode(),
    });
    if (decision.action === "pair") await this.pairing.add(msg.provider, msg.sender, decision.code, name, ids, held);
    // Their code was saved but never sent (a crash in between): send it now rather than never.
    const unsent = decision.action === "skip" && decision.reason === REASONS.pairingPending ? this.pairing.unsentCode(msg.provider, ids) : undefined;
    if (unsent) return { action: "pair", code: unsent, reason: REASONS.pairingRequested };
    if (approved && decision.action === "run" && msg.chatType === "private") await this.pairing.learn(msg.provider, ids);
    return decision;
  }
}

/**
 * The ids a sender is known by: the sender, and on WhatsApp the LID beside a phone JID
 * (a contact is seen by either, and the phone number may become known later).
 * Telegram @usernames are not ids: they can change hands.
 */
export function senderIds(msg: Pick<InboundFacts, "provider" | "sender" | "senderNames">): string[] {
  if (msg.provider !== "whatsapp") return [msg.sender];
  return [...new Set([msg.sender, ...msg.senderNames.filter((n) => n.endsWith("@lid"))])];
}
