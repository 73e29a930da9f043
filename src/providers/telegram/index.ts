import { join } from "node:path";
import { Api, GrammyError, HttpError, InputFile } from "grammy";
import { GatewayError, type SendParams, type SendResult } from "../../protocol/index.ts";
import { fetchMedia, MediaError, type FetchedMedia } from "../media.ts";
import { readJson, writeAtomic } from "../state-file.ts";
import type { Provider, ProviderDeps, ProviderStatus } from "../types.ts";

export interface TelegramOptions {
  botToken: string;
  apiRoot?: string;
  /** Long-poll timeout in seconds. */
  pollTimeoutS?: number;
  /** A long poll is given up this long after its poll timeout (a dead connection, not a quiet chat). */
  pollMarginS?: number;
  /** Timeout of one send request (uploads included). */
  sendTimeoutS?: number;
}

/** Telegram's limit for `sendPhoto` uploads; bigger images go as documents. */
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/** `"<chat>:<topic>"` addresses a forum topic (chat ids and @names never hold a colon). */
export function parseChat(to: string): { chat: string; thread?: number } {
  const m = /^(-?\d+):(\d+)$/.exec(to);
  return m ? { chat: m[1]!, thread: Number(m[2]) } : { chat: to };
}

/** Attempts of one send when Telegram answers 429 with retry_after. */
const SEND_ATTEMPTS = 3;
/** A retry_after longer than this is not waited for: the send fails retryable instead. */
const MAX_RETRY_AFTER_S = 30;

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
 * Telegram through grammY's Bot API client, with our own long-polling loop so the
 * update offset is persisted (`<state>/telegram/offset.json`) and a 409 conflict or a
 * network error restarts polling with backoff instead of stopping the gateway.
 */
export class TelegramProvider implements Provider {
  readonly name = "telegram" as const;
  /** Long polls: timeout = poll timeout + margin. */
  private readonly api: Api;
  /** Sends: their own timeout, so a stuck upload neither waits 500 s nor shares the poll's. */
  private readonly sendApi: Api;
  private readonly offsetFile: string;
  private offset: number;
  private connected = false;
  private username: string | undefined;
  private lastError: string | undefined;
  private polling: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly opts: TelegramOptions,
    private readonly deps: ProviderDeps,
  ) {
    const root = opts.apiRoot ? { apiRoot: opts.apiRoot } : {};
    this.api = new Api(opts.botToken, { ...root, timeoutSeconds: (opts.pollTimeoutS ?? 30) + (opts.pollMarginS ?? 15) });
    this.sendApi = new Api(opts.botToken, { ...root, timeoutSeconds: opts.sendTimeoutS ?? 60 });
    this.offsetFile = join(deps.stateDir, "telegram", "offset.json");
    this.offset = readJson<{ offset?: number }>(this.offsetFile, {}).offset ?? 0;
  }

  status(): ProviderStatus {
    return {
      linked: true,
      connected: this.connected,
      // Sends are plain HTTPS calls: a polling hiccup (409, network) does not stop them.
      sendable: true,
      detail: {
        ...(this.username ? { username: this.username } : {}),
        ...(this.lastError ? { lastError: this.lastError } : {}),
      },
    };
  }

  async start(): Promise<void> {
    this.polling = new AbortController();
    this.loop = this.pollLoop(this.polling.signal);
  }

  async stop(): Promise<void> {
    this.polling?.abort();
    await this.loop?.catch(() => {});
    this.setConnected(false);
  }

  private setConnected(connected: boolean, error?: string): void {
    const changed = connected !== this.connected || error !== undefined;
    this.connected = connected;
    if (error !== undefined) this.lastError = error;
    if (changed) this.deps.onStatus();
  }

  private async pollLoop(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!this.username) {
          const me = await this.api.getMe(signal as never);
          this.username = me.username;
          // Long polling and a webhook exclude each other.
          await this.api.deleteWebhook({ drop_pending_updates: false }, signal as never);
          this.deps.log.info(`telegram: polling as @${me.username}`);
        }
        const updates = await this.api.getUpdates(
          { offset: this.offset, timeout: this.opts.pollTimeoutS ?? 30, allowed_updates: ["message"] },
          signal as never,
        );
        this.setConnected(true);
        failures = 0;
        for (const u of updates) {
          const m = u.message;
          const text = m?.text ?? m?.caption;
          if (m && typeof text === "string") {
            // A reply to a forum-topic message goes back into that topic, not General.
            const topic = m.is_topic_message && m.message_thread_id !== undefined ? `:${m.message_thread_id}` : "";
            await this.deps.onInbound({
              provider: "telegram",
              chat: `${m.chat.id}${topic}`,
              sender: String(m.from?.id ?? m.chat.id),
              senderNames: m.from?.username ? [`@${m.from.username}`] : [],
              messageId: `${m.chat.id}:${m.message_id}`,
              text,
              ts: m.date * 1000,
              ...(m.chat.type !== "private" ? { group: true } : {}),
            });
          }
          this.offset = u.update_id + 1;
        }
        // Confirmed only once every message of the batch is on disk (ledger + kept for a
        // restart): a crash in between replays the batch, and inbound de-duplication by
        // message id absorbs the replay.
        if (updates.length > 0) await writeAtomic(this.offsetFile, JSON.stringify({ offset: this.offset }));
      } catch (err) {
        if (signal.aborted) break;
        failures += 1;
        const fatal = err instanceof GrammyError && err.error_code === 401;
        const why =
          err instanceof GrammyError
            ? err.error_code === 409
              ? "409 conflict: another client is polling this bot (or a webhook is set)"
              : `${err.error_code} ${err.description}`
            : err instanceof HttpError
              ? `network error: ${(err.error as Error)?.message ?? err.message}`
              : (err as Error).message;
        this.setConnected(false, fatal ? "401 unauthorized: telegram.botToken is wrong" : why);
        if (fatal) {
          this.deps.log.error("telegram: the bot token was rejected (401); polling stopped — fix telegram.botToken");
          return;
        }
        // A 429 says how long to stay away; waiting less only earns another 429.
        const retryAfter = err instanceof GrammyError && err.error_code === 429 ? (err.parameters.retry_after ?? 0) * 1000 : 0;
        const delay = Math.max(retryAfter, Math.min(60_000, 1_000 * 2 ** Math.min(failures - 1, 6)) * (0.5 + Math.random() / 2));
        this.deps.log.warn(`telegram: polling failed (${why}); retrying in ${Math.round(delay)} ms`);
        await sleep(delay, signal);
      }
    }
  }

  async send(params: SendParams): Promise<SendResult> {
    let media: FetchedMedia | undefined;
    if (params.mediaUrl) {
      try {
        media = await fetchMedia(params.mediaUrl);
      } catch (err) {
        if (err instanceof MediaError) throw new GatewayError("INVALID_REQUEST", err.message, { details: { field: "params.mediaUrl" } });
        throw err;
      }
    }
    const { chat, thread } = parseChat(params.to);
    const where = thread !== undefined ? { message_thread_id: thread } : {};
    for (let attempt = 1; ; attempt++) {
      try {
        let sent: { message_id: number };
        if (media) {
          const file = new InputFile(media.data, media.fileName);
          const extra = { ...where, ...(params.message ? { caption: params.message } : {}) };
          sent = await this.sendApi[mediaMethod(media)](chat, file, extra);
        } else {
          sent = await this.sendApi.sendMessage(chat, params.message, where);
        }
        return { provider: "telegram", to: params.to, messageId: String(sent.message_id), ts: Date.now() };
      } catch (err) {
        if (err instanceof GrammyError && err.error_code === 429) {
          const wait = err.parameters.retry_after ?? 1;
          if (attempt < SEND_ATTEMPTS && wait <= MAX_RETRY_AFTER_S) {
            this.deps.log.warn(`telegram: 429 on send, waiting retry_after=${wait}s`);
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
}
