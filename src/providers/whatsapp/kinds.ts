import { getContentType, normalizeMessageContent, proto, type WAMessage } from "@whiskeysockets/baileys";
import type { MessageExtras, Placeholder } from "../types.ts";

/** The phone number in a vCard's `TEL` line (`TEL;type=CELL;waid=447…:+44 20 7946 0000`). */
function vcardPhone(vcard: string | null | undefined): string | undefined {
  const line = (vcard ?? "").split(/\r?\n/).find((l) => /^(item\d+\.)?TEL/i.test(l));
  const value = line?.slice(line.indexOf(":") + 1).trim();
  return value || undefined;
}

const contact = (c: proto.Message.IContactMessage) => {
  const phone = vcardPhone(c.vcard);
  return { name: c.displayName ?? "", ...(phone ? { phone } : {}) };
};

/** Content without text or file, as a placeholder the agent can read. */
function placeholder(c: proto.IMessage): Placeholder | undefined {
  const loc = c.locationMessage;
  if (loc) {
    return { kind: "location", lat: loc.degreesLatitude ?? 0, lon: loc.degreesLongitude ?? 0, ...(loc.name ? { name: loc.name } : {}), ...(loc.address ? { address: loc.address } : {}) };
  }
  const live = c.liveLocationMessage;
  if (live) return { kind: "location", lat: live.degreesLatitude ?? 0, lon: live.degreesLongitude ?? 0, live: true };
  if (c.contactMessage) return { kind: "contact", contacts: [contact(c.contactMessage)] };
  if (c.contactsArrayMessage) return { kind: "contact", contacts: (c.contactsArrayMessage.contacts ?? []).map(contact) };
  if (c.stickerMessage) return { kind: "sticker" };
  const poll = c.pollCreationMessage ?? c.pollCreationMessageV2 ?? c.pollCreationMessageV3;
  if (poll) return { kind: "poll", question: poll.name ?? "", options: (poll.options ?? []).map((o) => o.optionName ?? "") };
  return undefined;
}

/** Never a run or a reply, ledgered with the kind (issue 21 §6). */
function ignoredKind(m: WAMessage, c: proto.IMessage | undefined): string | undefined {
  if (!c) {
    // A message that failed to decrypt: Baileys asks again and upserts it under the same id — not a kind to record (it would shadow the real one).
    if (m.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT) return undefined;
    const stub = m.messageStubType ? proto.WebMessageInfo.StubType[m.messageStubType] : undefined;
    return stub ? `protocol message (${stub.toLowerCase()})` : undefined;
  }
  if (c.reactionMessage || c.encReactionMessage) return "reaction";
  if (c.pollUpdateMessage) return "poll vote";
  const pm = c.protocolMessage;
  if (pm) {
    if (pm.type === proto.Message.ProtocolMessage.Type.MESSAGE_EDIT || pm.editedMessage) return "edit of an earlier message";
    if (pm.type === proto.Message.ProtocolMessage.Type.REVOKE) return "deleted message";
    const name = pm.type !== undefined && pm.type !== null ? proto.Message.ProtocolMessage.Type[pm.type] : undefined;
    return `protocol message (${(name ?? "unknown").toLowerCase()})`;
  }
  if (c.keepInChatMessage || c.pinInChatMessage) return "pin or keep in chat";
  if (c.callLogMesssage || c.bcallMessage) return "call notice";
  return undefined;
}

/** Wrapped as view-once, or marked so: linked devices never receive such media (the stanza says `unavailable`). */
function isViewOnce(m: WAMessage): boolean {
  if ((m.key as { isViewOnce?: boolean }).isViewOnce) return true;
  const raw = m.message;
  if (raw?.viewOnceMessage || raw?.viewOnceMessageV2 || raw?.viewOnceMessageV2Extension) return true;
  const eph = raw?.ephemeralMessage?.message;
  if (eph?.viewOnceMessage || eph?.viewOnceMessageV2 || eph?.viewOnceMessageV2Extension) return true;
  const c = normalizeMessageContent(raw);
  return !!(c?.imageMessage?.viewOnce || c?.videoMessage?.viewOnce || c?.audioMessage?.viewOnce);
}

/**
 * What a WhatsApp message holds beyond text and files (issue 21 §4, §6): a placeholder, a
 * kind never answered, view-once media, the photo/video burst it belongs to.
 */
export function waExtras(m: WAMessage): MessageExtras | undefined {
  if (isViewOnce(m)) return { viewOnce: true };
  const c = normalizeMessageContent(m.message);
  const extras: MessageExtras = {};
  const ignored = ignoredKind(m, c);
  if (ignored) return { ignored };
  const p = c ? placeholder(c) : undefined;
  if (p) extras.placeholder = p;
  // Photos and videos a person sends together arrive one by one: one turn (bounded by inbound.albumWindowMs).
  if (c?.imageMessage || c?.videoMessage) extras.albumId = "media";
  return Object.keys(extras).length ? extras : undefined;
}

/** The disappearing-messages timer the message carries (seconds; 0: off), or undefined when it says nothing. */
export function waExpiration(m: WAMessage): number | undefined {
  const c = normalizeMessageContent(m.message);
  const pm = c?.protocolMessage;
  if (pm?.type === proto.Message.ProtocolMessage.Type.EPHEMERAL_SETTING) return pm.ephemeralExpiration ?? 0;
  const type = c ? getContentType(c) : undefined;
  const inner = type ? (c![type] as { contextInfo?: proto.IContextInfo | null } | null | undefined) : undefined;
  const exp = typeof inner === "object" ? inner?.contextInfo?.expiration : undefined;
  return exp === undefined || exp === null ? undefined : exp;
}
