import { GrammyError, InputFile, type Api } from "grammy";
import type { Logger } from "../../log.ts";
import type { UrlPolicy } from "../../media/index.ts";
import type { SendResult } from "../../protocol/index.ts";
import { sendMedia, type FetchedMedia } from "../media.ts";
import type { ProviderSendParams } from "../types.ts";
import { classifyTelegramSend } from "./errors.ts";
import { telegramMessageId } from "./inbound.ts";

/** Telegram's limit for `sendPhoto` uploads; bigger images go as documents. */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/** `"<chat>:<topic>"` addresses a forum topic (chat ids and @names never hold a colon). */
export function parseChat(to: string): { chat: string; thread?: number } {
  const m = /^(-?\d+):(\d+)$/.exec(to);
  return m ? { chat: m[1]!, thread: Number(m[2]) } : { chat: to };
}

/** Wait `ms`, or less when `signal` aborts; the abort listener never outlives the wait. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** The grammY call for a fetched file: photos within Telegram's limits, GIFs as animations, the rest as documents. */
function mediaMethod(media: FetchedMedia): "sendPhoto" | "sendAnimation" | "sendVideo" | "sendAudio" | "sendDocument" {
  if (media.contentType === "image/gif") return "sendAnimation";
  if (media.kind === "image") return media.contentType !== "image/svg+xml" && media.data.byteLength <= MAX_PHOTO_BYTES ? "sendPhoto" : "sendDocument";
  if (media.kind === "video") return "sendVideo";
  if (media.kind === "audio") return "sendAudio";
  return "sendDocument";
}

/**
 * One send through the Bot API: text, or media with the text as caption; a reply
 * (`replyTo`, our inbound id) answers that message (`reply_parameters`, and still goes
 * out if it was deleted). One attempt: a failure is classified (src/providers/send-error.ts)
 * and delivery decides whether to try again.
 */
export async function sendTelegram(api: Api, params: ProviderSendParams, log: Logger, mediaUrls?: UrlPolicy): Promise<SendResult> {
  const media = await sendMedia(params, mediaUrls);
  const { chat, thread } = parseChat(params.to);
  const replyId = params.replyTo ? telegramMessageId(params.replyTo) : undefined;
  const where = {
    ...(thread !== undefined ? { message_thread_id: thread } : {}),
    ...(replyId !== undefined ? { reply_parameters: { message_id: replyId, allow_sending_without_reply: true } } : {}),
  };
  // Telegram HTML; a refusal to parse it falls back, once, to the plain words.
  let text = params.message;
  let mode = params.parseMode ? { parse_mode: params.parseMode } : {};
  for (;;) {
    try {
      let sent: { message_id: number };
      if (media) {
        const file = new InputFile(media.data, media.fileName);
        const extra = { ...where, ...(text ? { caption: text, ...mode } : {}) };
        sent = await api[mediaMethod(media)](chat, file, extra);
      } else {
        sent = await api.sendMessage(chat, text, { ...where, ...mode });
      }
      return { provider: "telegram", to: params.to, messageId: String(sent.message_id), ts: Date.now() };
    } catch (err) {
      if (err instanceof GrammyError && err.error_code === 400 && "parse_mode" in mode && params.plain !== undefined && /can't parse entities/i.test(err.description)) {
        log.warn("telegram: the reply's HTML was refused; sending it once as plain text", { error: err.description });
        text = params.plain;
        mode = {};
        continue;
      }
      throw classifyTelegramSend(err);
    }
  }
}
