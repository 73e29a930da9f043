import type { ProviderName } from "../protocol/index.ts";

/** `<provider>.dmPolicy` and `<provider>.groups` as the config gives them. */
export interface ChatPolicy {
  dmPolicy: "allowlist" | "pairing" | "open";
  /** Who may message in private: [] nobody, ["*"] everyone, else ids or names (`@user`, `+1555…`). */
  allowFrom: readonly string[];
  groups: { policy: "disabled" | "allowlist" | "open"; allow: readonly string[]; requireMention: boolean; allowFrom?: readonly string[] };
  /** WhatsApp: the owner's messages in their own chat are input (default true). */
  selfChat?: boolean;
}

/** What is known about an inbound message when it is decided on. */
export interface InboundFacts {
  provider: ProviderName;
  chatType: "private" | "group";
  /** The chat id / JID (the group's, in a group). */
  chat: string;
  sender: string;
  senderNames: readonly string[];
  /** Addressed to the bot: a mention of it, or a reply to / quote of one of its messages. */
  addressed: boolean;
  /** Written by the linked account in its own chat (WhatsApp "Message yourself"). */
  self?: boolean;
  /** A Telegram group upgraded to a supergroup: its old id, which `groups.allow` and the session still name. */
  extras?: { migratedFrom?: string };
}

/** Where the sender stands with pairing (private chats under `dmPolicy: "pairing"`). */
export interface PairingFacts {
  /** Approved earlier through `pairing.approve` (counts under `dmPolicy: "pairing"` only). */
  approved: boolean;
  /** A live (unexpired) request of this sender exists. */
  pending: boolean;
  /** Live requests of this provider. */
  pendingCount: number;
  maxPending: number;
  /** The code to hand out if a new request is made. */
  code: string;
}

export type Decision =
  | { action: "run"; sessionId: string; group: boolean }
  | { action: "pair"; code: string; reason: "pairing requested" }
  | { action: "skip"; reason: string };

/** The ledger reasons of the issue, exactly. */
export const REASONS = {
  pairingRequested: "pairing requested",
  pairingPending: "pairing pending",
  pairingQueueFull: "pairing queue full",
  notMentioned: "not mentioned",
  groupNotAllowed: "group not allowed",
  senderNotInGroupAllowFrom: "sender not allowed in group",
  selfChatOff: "self chat off (whatsapp.selfChat: false)",
} as const;

/**
 * The session a chat's runs share: the private chat's or the group's own. A migrated
 * Telegram group keeps its old id's session; a WhatsApp private chat is keyed by the
 * canonical sender (the phone JID when known), so a contact moving from a phone JID to a
 * LID keeps one conversation (issue 21 §8).
 */
export const chatSessionId = (msg: { provider: ProviderName; chat: string; chatType?: "private" | "group"; sender?: string; extras?: { migratedFrom?: string } }): string => {
  const old = msg.extras?.migratedFrom;
  if (old) return `${msg.provider}:${old}${msg.chat.includes(":") ? msg.chat.slice(msg.chat.indexOf(":")) : ""}`;
  if (msg.provider === "whatsapp" && msg.chatType !== "group" && msg.sender && !msg.chat.endsWith("@g.us")) return `whatsapp:${msg.sender}`;
  return `${msg.provider}:${msg.chat}`;
};

const digits = (s: string) => s.replace(/[^0-9]/g, "");

/**
 * `allowFrom`: empty means nobody, `"*"` everyone, else sender ids or names. `@user`
 * names compare case-insensitively (Telegram usernames are); `+1555…` phone numbers
 * compare by digits, only against a sender's phone number (a `+…` name or a phone JID),
 * never against a LID or a user id.
 */
export function senderAllowed(allowFrom: readonly string[], sender: string, senderNames: readonly string[]): boolean {
  if (allowFrom.includes("*")) return true;
  const names = senderNames.map((n) => (n.startsWith("@") ? n.toLowerCase() : n));
  const phones = senderNames.filter((n) => n.startsWith("+")).map(digits);
  if (sender.endsWith("@s.whatsapp.net")) phones.push(digits(sender.split(/[:@]/)[0]!));
  return allowFrom.some((a) => {
    if (a === sender) return true;
    if (a.startsWith("@")) return names.includes(a.toLowerCase());
    if (a.startsWith("+")) return digits(a) !== "" && phones.includes(digits(a));
    return names.includes(a);
  });
}

/**
 * Whether a message starts a run, gets a pairing code, or is skipped (and why). Pure:
 * everything it needs comes in; the caller records the outcome. In groups the sender
 * allow-list does not apply: the group policy and the mention rule do.
 */
export function decide(msg: InboundFacts, policy: ChatPolicy, pairing: PairingFacts): Decision {
  const sessionId = chatSessionId(msg);
  if (msg.chatType === "group") {
    const g = policy.groups;
    // A Telegram forum topic's chat is "<group id>:<topic id>": the group's id is what `allow` names.
    const groupId = msg.provider === "telegram" ? msg.chat.split(":")[0]! : msg.chat;
    const old = msg.extras?.migratedFrom;
    const allowed = g.allow.includes(msg.chat) || g.allow.includes(groupId) || (old !== undefined && g.allow.includes(old));
    if (g.policy === "disabled" || (g.policy === "allowlist" && !allowed)) {
      return { action: "skip", reason: REASONS.groupNotAllowed };
    }
    if (g.requireMention && !msg.addressed) return { action: "skip", reason: REASONS.notMentioned };
    if (!groupSenderAllowed(msg, policy, pairing.approved)) return { action: "skip", reason: REASONS.senderNotInGroupAllowFrom };
    return { action: "run", sessionId, group: true };
  }
  // The owner writing in their own chat is the owner, whatever the allow-list says.
  if (msg.self) return policy.selfChat === false ? { action: "skip", reason: REASONS.selfChatOff } : { action: "run", sessionId, group: false };
  // Approvals belong to pairing: under "allowlist" only allowFrom lets a sender in (they apply again if pairing comes back).
  if (policy.dmPolicy === "open" || (policy.dmPolicy === "pairing" && pairing.approved) || senderAllowed(policy.allowFrom, msg.sender, msg.senderNames)) {
    return { action: "run", sessionId, group: false };
  }
  if (policy.dmPolicy === "allowlist") return { action: "skip", reason: `sender not in ${msg.provider}.allowFrom` };
  if (pairing.pending) return { action: "skip", reason: REASONS.pairingPending };
  if (pairing.pendingCount >= pairing.maxPending) return { action: "skip", reason: REASONS.pairingQueueFull };
  return { action: "pair", code: pairing.code, reason: REASONS.pairingRequested };
}

/**
 * `groups.allowFrom`: who in an allowed group may start a run. Unset, it is the private
 * `allowFrom` (and, under pairing, the approved senders) when that names someone; an
 * empty or `"*"` private list leaves the group open to everyone in it.
 */
export function groupSenderAllowed(msg: Pick<InboundFacts, "sender" | "senderNames">, policy: ChatPolicy, approved: boolean): boolean {
  const own = policy.groups.allowFrom;
  if (own !== undefined) return senderAllowed(own, msg.sender, msg.senderNames);
  if (policy.allowFrom.length === 0 || policy.allowFrom.includes("*")) return true;
  return (policy.dmPolicy === "pairing" && approved) || senderAllowed(policy.allowFrom, msg.sender, msg.senderNames);
}
