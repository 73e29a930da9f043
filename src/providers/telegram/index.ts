import { join } from "node:path";
import { Api, GrammyError, HttpError, InputFile } from "grammy";
import { GatewayError, type SendParams, type SendResult } from "../../protocol/index.ts";
import { fetchMedia, MediaError } from "../media.ts";
import { readJson, writeAtomic } from "../state-file.ts";
import type { Provider, ProviderDeps, ProviderStatus } from "../types.ts";

export interface TelegramOptions {
  botToken: string;
  apiRoot?: string;
  /** Long-poll timeout in seconds. */
  pollTimeoutS?: number;
}

/** Attempts of one send when Telegram answers 429 with retry_after. */
const SEND_ATTEMPTS = 3;
/** A retry_after longer than this is not waited for: the send fails retryable instead. */
const MAX_RETRY_AFTER_S = 30;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Telegram through grammY's Bot API client, with our own long-polling loop so the
 * update offset is persisted (`<state>/telegram/offset.json`) and a 409 conflict or a
 * network error restarts polling with backoff instead of stopping the gateway.
 */
export class TelegramProvider implements Provider {
  readonly name = "telegram" as const;
  private readonly api: Api;
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
    this.api = new Api(opts.botToken, opts.apiRoot ? { apiRoot: opts.apiRoot } : {});
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
          if (m && typeof m.text === "string") {
            this.deps.onInbound({
              provider: "telegram",
              chat: String(m.chat.id),
              sender: String(m.from?.id ?? m.chat.id),
              senderNames: m.from?.username ? [`@${m.from.username}`] : [],
              messageId: `${m.chat.id}:${m.message_id}`,
              text: m.text,
              ts: m.date * 1000,
            });
          }
          this.offset = u.update_id + 1;
        }
        // Persisted after handling: a crash in between replays the batch, and inbound
        // de-duplication by message id absorbs the replay.
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
        const delay = Math.min(60_000, 1_000 * 2 ** Math.min(failures - 1, 6)) * (0.5 + Math.random() / 2);
        this.deps.log.warn(`telegram: polling failed (${why}); retrying in ${Math.round(delay)} ms`);
        await sleep(delay, signal);
      }
    }
  }

  async send(params: SendParams, signal?: AbortSignal): Promise<SendResult> {
    let media: Awaited<ReturnType<typeof fetchMedia>> | undefined;
    if (params.mediaUrl) {
      try {
        media = await fetchMedia(params.mediaUrl, signal ? { signal } : {});
      } catch (err) {
        if (err instanceof MediaError) throw new GatewayError("INVALID_REQUEST", err.message, { details: { field: "params.mediaUrl" } });
        throw err;
      }
    }
    const chat = params.to;
    for (let attempt = 1; ; attempt++) {
      try {
        let sent: { message_id: number };
        if (media) {
          const file = new InputFile(media.data, media.fileName);
          const caption = params.message ? { caption: params.message } : {};
          sent =
            media.kind === "image"
              ? await this.api.sendPhoto(chat, file, caption, signal as never)
              : media.kind === "video"
                ? await this.api.sendVideo(chat, file, caption, signal as never)
                : media.kind === "audio"
                  ? await this.api.sendAudio(chat, file, caption, signal as never)
                  : await this.api.sendDocument(chat, file, caption, signal as never);
        } else {
          sent = await this.api.sendMessage(chat, params.message, {}, signal as never);
        }
        return { provider: "telegram", to: chat, messageId: String(sent.message_id), ts: Date.now() };
      } catch (err) {
        if (err instanceof GrammyError && err.error_code === 429) {
          const wait = err.parameters.retry_after ?? 1;
          if (attempt < SEND_ATTEMPTS && wait <= MAX_RETRY_AFTER_S) {
            this.deps.log.warn(`telegram: 429 on send, waiting retry_after=${wait}s`);
            await sleep(wait * 1000, signal);
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
        if (err instanceof HttpError) {
          throw new GatewayError("UNAVAILABLE", `telegram unreachable: ${err.message}`, { retryable: true });
        }
        throw err;
      }
    }
  }
}
