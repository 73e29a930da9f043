import {
  getContentType,
  isJidBroadcast,
  isJidGroup,
  isJidNewsletter,
  isJidStatusBroadcast,
  isLidUser,
  isPnUser,
  jidNormalizedUser,
  normalizeMessageContent,
  proto,
  type WAMessage,
} from "@whiskeysockets/baileys";
import { mediaLabel } from "../../media/label.ts";
import type { InboundMessage } from "../types.ts";
import { mentionsAsNames } from "./names.ts";
import { waExtras } from "./kinds.ts";

/** Finds the phone number behind a LID through the socket's LID mapping store. */
export type PnForLid = (lid: string) => Promise<string | null | undefined>;

/**
 * The text a person wrote, wherever the message kind puts it. Baileys' own normaliser
 * first unwraps disappearing-chat (`ephemeralMessage`), view-once and
 * `documentWithCaptionMessage` wrappers; then plain text, extended text or a media caption.
 */
function messageText(m: Pick<WAMessage, "message">): string | null {
  return contentText(normalizeMessageContent(m.message));
}

function contentText(c: proto.IMessage | null | undefined): string | null {
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

/** The linked account: its phone JID and LID (either may be how a group names it). */
export interface WaMe {
  id?: string | null;
  lid?: string | null;
  name?: string | null;
}

/** Names by JID (src/providers/whatsapp/names.ts), for mentions and quotes. */
export type NameOf = (jid: string) => string | undefined;

/** The quoted message's text (first 500 characters) and author, and the text with mentions as names. */
function readable(m: WAMessage, text: string, nameOf: NameOf): Pick<InboundMessage, "quote" | "text"> {
  const ctx = contextInfo(m);
  if (!ctx) return { text };
  const out = { text: mentionsAsNames(text, ctx.mentionedJid ?? [], nameOf) };
  if (!ctx.quotedMessage) return out;
  const quoted = messageText({ message: ctx.quotedMessage }) ?? "[media]";
  const author = ctx.participant ? (nameOf(ctx.participant) ?? (isPnUser(ctx.participant) ? phoneOf(ctx.participant) : undefined)) : undefined;
  return { ...out, quote: { text: quoted.slice(0, 500), ...(author ? { author } : {}) } };
}

/** The `contextInfo` of a message's content (mentions, the quoted message), wherever the kind puts it. */
function contextInfo(m: WAMessage): proto.IContextInfo | undefined {
  const c = normalizeMessageContent(m.message);
  const type = c ? getContentType(c) : undefined;
  const inner = type ? (c![type] as { contextInfo?: proto.IContextInfo | null } | null | undefined) : undefined;
  return (typeof inner === "object" && inner?.contextInfo) || undefined;
}

/**
 * Addressed to the linked account: its JID (PN or LID, any device) among the message's
 * mentions, or a quote of one of its messages (`contextInfo.participant` is the account).
 */
function addressedToMe(m: WAMessage, me: WaMe): boolean {
  const mine = new Set([me.id, me.lid].filter((j): j is string => !!j).map((j) => jidNormalizedUser(j)));
  if (mine.size === 0) return false;
  const ctx = contextInfo(m);
  if (!ctx) return false;
  if ((ctx.mentionedJid ?? []).some((j) => mine.has(jidNormalizedUser(j)))) return true;
  return !!ctx.stanzaId && !!ctx.participant && mine.has(jidNormalizedUser(ctx.participant));
}

/** The message holds a photo, voice note/audio, video or document (its caption, if any, is the text). */
function hasMedia(m: WAMessage): boolean {
  const c = normalizeMessageContent(m.message);
  return !!(c?.imageMessage || c?.audioMessage || c?.videoMessage || c?.ptvMessage || c?.documentMessage);
}

/** The message's file as words, for a message without text (see `mediaLabel`). */
function labelOf(m: WAMessage): string | undefined {
  const c = normalizeMessageContent(m.message);
  if (c?.imageMessage) return mediaLabel("photo");
  if (c?.audioMessage) return mediaLabel(c.audioMessage.ptt ? "voice note" : "audio", { seconds: c.audioMessage.seconds });
  if (c?.videoMessage) return mediaLabel("video");
  if (c?.ptvMessage) return mediaLabel("video note", { seconds: c.ptvMessage.seconds });
  if (c?.documentMessage) return mediaLabel("document", { name: c.documentMessage.fileName });
  return undefined;
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
 * (our own message, no id, neither text nor media). Baileys 7 keys: for 1:1 chats `participant` is "",
 * the sender is `remoteJid`; in groups and broadcasts it is `participant`. Either may
 * be a LID (`…@lid`); the phone JID is then in `remoteJidAlt` / `participantAlt`, else in
 * the socket's LID mapping. Replies always go to `remoteJid`, the chat itself.
 */
export async function toInbound(m: WAMessage, upsertType: string, pnForLid: PnForLid, me: WaMe = {}, nameOf: NameOf = () => undefined): Promise<InboundMessage | null> {
  const { key } = m;
  // The owner's own messages are input only in their own chat ("Message yourself").
  const self = !!key.fromMe && !!key.remoteJid && isSelfChat(key.remoteJid, me);
  if ((key.fromMe && !self) || !key.id || !key.remoteJid) return null;
  const edit = editOf(m);
  const text = edit ? edit.text : messageText(m);
  // An edit is handled as one (src/inbound/edits.ts), not as a kind to skip.
  const extras = edit ? undefined : waExtras(m);
  if (text === null && (edit || (!hasMedia(m) && !extras))) return null;
  const chat = key.remoteJid;
  const group = isJidGroup(chat) === true;
  const sender = self && me.id ? me.id : ((key.participant || chat) as string);
  const alt = (group || isJidBroadcast(chat) ? key.participantAlt : key.remoteJidAlt) ?? undefined;
  let pn: string | undefined = isPnUser(sender) ? sender : alt && isPnUser(alt) ? alt : undefined;
  if (!pn && isLidUser(sender)) pn = (await pnForLid(sender).catch(() => null)) ?? undefined;
  const names: string[] = [];
  if (pn) names.push(phoneOf(pn));
  if (isLidUser(sender)) names.push(jidNormalizedUser(sender));
  const refused = refusedChat(chat);
  const label = labelOf(m);
  return {
    provider: "whatsapp",
    chat,
    sender: pn ? jidNormalizedUser(pn) : jidNormalizedUser(sender),
    senderNames: names,
    messageId: key.id,
    ...readable(m, text ?? "", nameOf),
    ts: Number(m.messageTimestamp ?? 0) * 1000 || Date.now(),
    chatType: group ? "group" : "private",
    addressed: group ? addressedToMe(m, me) : true,
    ...(m.pushName ? { senderName: m.pushName } : {}),
    ...(upsertType === "append" ? { offline: true } : {}),
    ...(refused ? { refused } : {}),
    ...(label ? { mediaLabel: label } : {}),
    ...(self ? { self: true } : {}),
    ...(edit ? { editOf: edit.of } : {}),
    ...(extras ? { extras } : {}),
  };
}

/** An edit (protocol message MESSAGE_EDIT): the original's id and its new text. */
function editOf(m: WAMessage): { of: string; text: string | null } | undefined {
  const p = normalizeMessageContent(m.message)?.protocolMessage;
  if (p?.type !== proto.Message.ProtocolMessage.Type.MESSAGE_EDIT || !p.key?.id) return undefined;
  const text = contentText(normalizeMessageContent(p.editedMessage));
  return { of: p.key.id, text: text && text.trim() !== "" ? text : null };
}

/** The linked account's own chat: its phone JID or its LID (any device). */
export function isSelfChat(jid: string, me: WaMe): boolean {
  if (isJidGroup(jid)) return false;
  const mine = [me.id, me.lid].filter((j): j is string => !!j).map((j) => jidNormalizedUser(j));
  return mine.includes(jidNormalizedUser(jid));
}
