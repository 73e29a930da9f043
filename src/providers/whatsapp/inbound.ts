import {
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidStatusBroadcast,
  isLidUser,
  isPnUser,
  jidNormalizedUser,
  normalizeMessageContent,
  type WAMessage,
} from "@whiskeysockets/baileys";
import type { InboundMessage } from "../types.ts";

/** Finds the phone number behind a LID through the socket's LID mapping store. */
export type PnForLid = (lid: string) => Promise<string | null | undefined>;

/**
 * The text a person wrote, wherever the message kind puts it. Baileys' own normaliser
 * first unwraps disappearing-chat (`ephemeralMessage`), view-once and
 * `documentWithCaptionMessage` wrappers; then plain text, extended text or a media caption.
 */
export function messageText(m: WAMessage): string | null {
  const c = normalizeMessageContent(m.message);
  if (!c) return null;
  const text =
    c.conversation ??
    c.extendedTextMessage?.text ??
    c.imageMessage?.caption ??
    c.videoMessage?.caption ??
    c.documentMessage?.caption ??
    null;
  return text && text.trim() !== "" ? text : null;
}

/** Why a chat kind never gets a reply, or null for 1:1 and group chats. */
function refusedChat(jid: string): string | null {
  if (isJidStatusBroadcast(jid)) return "status update (status@broadcast): never answered";
  if (isJidBroadcast(jid)) return "broadcast list message: never answered";
  if (isJidNewsletter(jid)) return "channel (newsletter) post: never answered";
  return null;
}

/** `15551234567:3@s.whatsapp.net` → `+15551234567`. */
const phoneOf = (pnJid: string) => `+${jidNormalizedUser(pnJid).split("@")[0]}`;

/**
 * One upserted message as the gateway sees it, or null when there is nothing to act on
 * (our own message, no id, no text). Baileys 7 keys: for 1:1 chats `participant` is "",
 * the sender is `remoteJid`; in groups and broadcasts it is `participant`. Either may
 * be a LID (`…@lid`); the phone JID is then in `remoteJidAlt` / `participantAlt`, else in
 * the socket's LID mapping. Replies always go to `remoteJid`, the chat itself.
 */
export async function toInbound(m: WAMessage, upsertType: string, pnForLid: PnForLid): Promise<InboundMessage | null> {
  const { key } = m;
  if (key.fromMe || !key.id || !key.remoteJid) return null;
  const text = messageText(m);
  if (text === null) return null;
  const chat = key.remoteJid;
  const group = isJidGroup(chat) === true;
  const sender = (key.participant || chat) as string;
  const alt = (group || isJidBroadcast(chat) ? key.participantAlt : key.remoteJidAlt) ?? undefined;
  let pn: string | undefined = isPnUser(sender) ? sender : alt && isPnUser(alt) ? alt : undefined;
  if (!pn && isLidUser(sender)) pn = (await pnForLid(sender).catch(() => null)) ?? undefined;
  const names: string[] = [];
  if (pn) names.push(phoneOf(pn));
  if (isLidUser(sender)) names.push(jidNormalizedUser(sender));
  const refused = refusedChat(chat);
  return {
    provider: "whatsapp",
    chat,
    sender: pn ? jidNormalizedUser(pn) : jidNormalizedUser(sender),
    senderNames: names,
    messageId: key.id,
    text,
    ts: Number(m.messageTimestamp ?? 0) * 1000 || Date.now(),
    ...(group ? { group: true } : {}),
    ...(upsertType === "append" ? { offline: true } : {}),
    ...(refused ? { refused } : {}),
  };
}
