import type { Api } from "grammy";
import type { Message, MessageEntity } from "grammy/types";
import { responseSource, takeMedia, type InboundMediaSink, type MediaCandidate } from "../../media/index.ts";
import { mediaLabel } from "../../media/label.ts";
import type { InboundMessage } from "../types.ts";
import { telegramExtras } from "./kinds.ts";

/** The bot itself, from getMe: mentions and replies are matched against it. */
export interface BotIdentity {
  id: number;
  username?: string;
}

/**
 * Addressed to the bot: a `mention` entity of its @username (case-insensitive, as
 * Telegram usernames are), a `text_mention` of its user, a command addressed to it
 * (`/ask@<botname> …`, what privacy mode lets through), or a reply to one of its messages.
 */
export function addressedToBot(m: Message, me: BotIdentity): boolean {
  if (m.reply_to_message?.from?.id === me.id) return true;
  const text = m.text ?? m.caption ?? "";
  const entities: MessageEntity[] = m.entities ?? m.caption_entities ?? [];
  const name = me.username ? `@${me.username.toLowerCase()}` : undefined;
  const part = (e: MessageEntity) => text.slice(e.offset, e.offset + e.length).toLowerCase();
  return entities.some(
    (e) =>
      (e.type === "mention" && name !== undefined && part(e) === name) ||
      (e.type === "text_mention" && e.user.id === me.id) ||
      // `/status@thisbot` in a group is said to this bot.
      (e.type === "bot_command" && name !== undefined && part(e).endsWith(name)),
  );
}

/** The one file a message holds (the largest photo size), or undefined. */
function candidate(m: Message): { fileId: string; kind: MediaCandidate["kind"]; mime: string; size?: number; name?: string } | undefined {
  const size = (n: number | undefined) => (n !== undefined ? { size: n } : {});
  if (m.photo?.length) {
    const p = m.photo[m.photo.length - 1]!;
    return { fileId: p.file_id, kind: "image", mime: "image/jpeg", ...size(p.file_size) };
  }
  if (m.voice) return { fileId: m.voice.file_id, kind: "audio", mime: m.voice.mime_type ?? "audio/ogg", ...size(m.voice.file_size) };
  if (m.audio) return { fileId: m.audio.file_id, kind: "audio", mime: m.audio.mime_type ?? "audio/mpeg", ...size(m.audio.file_size), ...(m.audio.file_name ? { name: m.audio.file_name } : {}) };
  if (m.video) return { fileId: m.video.file_id, kind: "video", mime: m.video.mime_type ?? "video/mp4", ...size(m.video.file_size) };
  if (m.video_note) return { fileId: m.video_note.file_id, kind: "video", mime: "video/mp4", ...size(m.video_note.file_size) };
  if (m.document) {
    const d = m.document;
    return { fileId: d.file_id, kind: "document", mime: d.mime_type ?? "application/octet-stream", ...size(d.file_size), ...(d.file_name ? { name: d.file_name } : {}) };
  }
  return undefined;
}

/** The message's file as words, for a message without text (see `mediaLabel`). */
function labelOf(m: Message): string | undefined {
  if (m.photo?.length) return mediaLabel("photo");
  if (m.voice) return mediaLabel("voice note", { seconds: m.voice.duration });
  if (m.audio) return mediaLabel("audio", { name: m.audio.title ?? m.audio.file_name ?? null });
  if (m.video) return mediaLabel("video");
  if (m.video_note) return mediaLabel("video note", { seconds: m.video_note.duration });
  if (m.document) return mediaLabel("document", { name: m.document.file_name ?? null });
  return undefined;
}

/** How a provider fetches a file: getFile, then the Bot API's file endpoint. */
export interface FileAccess {
  api: Api;
  /** `https://api.telegram.org` or the configured apiRoot. */
  apiRoot: string;
  token: string;
  signal?: AbortSignal;
}

/** getFile + download (bounded); Telegram's answer names the path under `<apiRoot>/file/bot<token>/`. */
function opener(files: FileAccess, fileId: string): MediaCandidate["open"] {
  return async (max, timeout) => {
    const signal = files.signal ? AbortSignal.any([files.signal, timeout]) : timeout;
    const f = await files.api.getFile(fileId, signal as never);
    if (f.file_size !== undefined && f.file_size > max) return null;
    if (!f.file_path) throw new Error(`telegram getFile gave no file_path for ${fileId}`);
    const res = await fetch(`${files.apiRoot.replace(/\/+$/, "")}/file/bot${files.token}/${f.file_path}`, { signal });
    if (!res.ok) throw new Error(`telegram file download answered HTTP ${res.status}`);
    return responseSource(res, max);
  };
}

/**
 * One update's message as the gateway sees it, or null when it holds nothing to act on.
 * The caption is the text. A file is not fetched here: `fetchMedia` fetches and saves it,
 * and the gateway calls it only for a message it will answer (a failed download is
 * logged through `onMediaError` and recorded; the text still goes on).
 */
export function toInbound(
  m: Message,
  me: BotIdentity,
  media: { sink: InboundMediaSink; files: FileAccess } | undefined,
  onMediaError: (err: Error) => void,
  migratedFrom?: string,
): InboundMessage | null {
  const text = m.text ?? m.caption ?? "";
  const file = media ? candidate(m) : undefined;
  const extras = { ...telegramExtras(m, text !== "" || candidate(m) !== undefined), ...(migratedFrom ? { migratedFrom } : {}) };
  if (text === "" && !file && !extras.placeholder && !extras.ignored) return null;
  const fetchMedia =
    file && media
      ? () =>
          takeMedia(media.sink, { ...file, open: opener(media.files, file.fileId) }).catch((err: Error) => {
            onMediaError(err);
            return { mediaSkipped: `media not downloaded: ${err.message}` };
          })
      : undefined;
  // A reply to a forum-topic message goes back into that topic, not General.
  const topic = m.is_topic_message && m.message_thread_id !== undefined ? `:${m.message_thread_id}` : "";
  const group = m.chat.type !== "private";
  const name = [m.from?.first_name, m.from?.last_name].filter(Boolean).join(" ");
  const label = file ? labelOf(m) : undefined;
  return {
    provider: "telegram",
    chat: `${m.chat.id}${topic}`,
    sender: String(m.from?.id ?? m.chat.id),
    senderNames: m.from?.username ? [`@${m.from.username}`] : [],
    ...(name ? { senderName: m.from?.username ? `${name} (@${m.from.username})` : name } : {}),
    messageId: `${m.chat.id}:${m.message_id}`,
    text,
    ts: m.date * 1000,
    chatType: group ? "group" : "private",
    addressed: group ? addressedToBot(m, me) : true,
    ...(fetchMedia ? { fetchMedia } : {}),
    ...(label ? { mediaLabel: label } : {}),
    ...(group && m.chat.title ? { chatTitle: m.chat.title } : {}),
    ...quoteOf(m),
    ...(Object.keys(extras).length ? { extras } : {}),
  };
}

/** What a reply quotes: Telegram's own quote (a selected part), else the replied-to message's text or caption; and its author. */
function quoteOf(m: Message): Pick<InboundMessage, "quote"> {
  const r = m.reply_to_message;
  const text = m.quote?.text ?? r?.text ?? r?.caption ?? (r ? "[media]" : undefined);
  if (text === undefined) return {};
  const origin = m.external_reply?.origin;
  const from = r?.from ?? (origin?.type === "user" ? origin.sender_user : undefined);
  const author = from ? [from.first_name, from.last_name].filter(Boolean).join(" ") + (from.username ? ` (@${from.username})` : "") : undefined;
  return { quote: { text: text.slice(0, 500), ...(author ? { author } : {}) } };
}

/** The Telegram message id inside our `<chat>:<message_id>` inbound id. */
export const telegramMessageId = (inboundId: string): number | undefined => {
  const n = Number(inboundId.slice(inboundId.lastIndexOf(":") + 1));
  return Number.isInteger(n) && n > 0 ? n : undefined;
};

/**
 * An `edited_message` as an edit of the message it changes: its own id (Telegram keeps
 * the message id, so the edit time tells edits apart) and `editOf`; its file is not fetched again.
 */
export function asEdit(msg: InboundMessage, editDate: number | undefined): Pick<InboundMessage, "messageId" | "editOf" | "fetchMedia"> {
  return { messageId: `${msg.messageId}:edit:${editDate ?? Math.floor(Date.now() / 1000)}`, editOf: msg.messageId, fetchMedia: undefined };
}
