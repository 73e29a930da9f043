import { GrammyError, InputFile, type Api } from "grammy";
import type { Logger } from "../../log.ts";
import type { UrlPolicy } from "../../media/index.ts";
import { GatewayError, type SendResult } from "../../protocol/index.ts";
import { fetchSendMedia, type FetchedMedia } from "../media.ts";
import type { ProviderSendParams } from "../types.ts";
import { telegramMessageId } from "./inbound.ts";

/** Telegram's limit for `sendPhoto` uploads; bigger images go as documents. */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
/** Attempts of one send when Telegram answers 429 with retry_after. */
const SEND_ATTEMPTS = 3;
/** A retry_after longer than this is not waited for: the send fails retryable instead. */
const MAX_RETRY_AFTER_S = 30;

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
 * out if it was deleted). 429 retry_after is honoured up to a bound; refusals are typed.
 */
export async function sendTelegram(api: Api, params: ProviderSendParams, log: Logger, mediaUrls?: UrlPolicy): Promise<SendResult> {
  const media = params.mediaUrl ? await fetchSendMedia(params.mediaUrl, mediaUrls) : undefined;
  const { chat, thread } = parseChat(params.to);
  const replyId = params.replyTo ? telegramMessageId(params.replyTo) : undefined;
  const where = {
    ...(thread !== undefined ? { message_thread_id: thread } : {}),
    ...(replyId !== undefined ? { reply_parameters: { message_id: replyId, allow_sending_without_reply: true } } : {}),
  };
  for (let attempt = 1; ; attempt++) {
    try {
      let sent: { message_id: number };
      if (media) {
        const file = new InputFile(media.data, media.fileName);
        const extra = { ...where, ...(params.message ? { caption: params.message } : {}) };
        sent = await api[mediaMethod(media)](chat, file, extra);
      } else {
        sent = await api.sendMessage(chat, params.message, where);
      }
      return { provider: "telegram", to: params.to, messageId: String(sent.message_id), ts: Date.now() };
    } catch (err) {
      if (err instanceof GrammyError && err.error_code === 429) {
        const wait = err.parameters.retry_after ?? 1;
        if (attempt < SEND_ATTEMPTS && wait <= MAX_RETRY_AFTER_S) {
          log.warn(`telegram: 429 on send, waiting retry_after=${wait}s`);
          await sleep(wait * 1000);
          continue;
        }
        throw new GatewayError("UNAVAILABLE", `telegram is rate limiting sends (retry after ${wait} s)`, {
          retryable: true,
          retryAfterMs: wait * 1000,
        });
      }
      if (err instanceof GrammyError) {
        throw new GatewayError(err.error_code >= 500 ? "UNAVAILABLE" : "INVALID_REQUEST", `telegram refused the send: ${err.error_code} ${err.description}`, {
          retryable: err.error_code >= 500,
          details: { provider: "telegram", code: err.error_code },
        });
      }
      // Transport failures and grammY's own request timeout: nothing reached Telegram for sure.
      throw new GatewayError("UNAVAILABLE", `telegram unreachable: ${(err as Error).message}`, { retryable: true });
    }
  }
}
