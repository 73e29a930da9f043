import { dirname, join } from "node:path";
import { Api, GrammyError, HttpError } from "grammy";
import type { SendResult } from "../../protocol/index.ts";
import { backoffDelay } from "../../core/backoff.ts";
import { hostOf, networkCause, unreachable } from "../../core/unreachable.ts";
import { coalesce } from "../coalesce.ts";
import { SendMediaError } from "../media.ts";
import { SendError } from "../send-error.ts";
import { privateDir, readJson, writeAtomic } from "../../core/atomic.ts";
import { TypingChats } from "../typing.ts";
import type { Provider, ProviderDeps, ProviderSendParams, ProviderStatus } from "../types.ts";
import { asEdit, toInbound, type BotIdentity } from "./inbound.ts";
import { reactionToInbound } from "./kinds.ts";
import { TelegramMigrations } from "./migrations.ts";
import { privacyAdvice } from "./privacy.ts";
import { botApiFetch, describeTelegramError } from "./errors.ts";
import { parseChat, sendTelegram, sleep } from "./send.ts";

export { sleep } from "./send.ts";

export interface TelegramOptions {
  botToken: string;
  apiRoot?: string;
  /** Long-poll timeout in seconds. */
  pollTimeoutS?: number;
  /**
   * The watchdog restarts the poll loop when no getUpdates answer came this long after
   * the poll's timeout (default 30 s: a host that slept, a proxy that hung).
   */
  pollMarginS?: number;
  /** Timeout of one send request (uploads included). */
  sendTimeoutS?: number;
  /** How often "typing…" is renewed while a run works (Telegram shows it ~5 s). */
  typingEveryMs?: number;
  /** `telegram.groups.policy` is not "disabled": privacy mode then earns a warning. */
  groupsEnabled?: () => boolean;
}

const DEFAULT_API_ROOT = "https://api.telegram.org";
const CONFLICT =
  "409 conflict: another poller uses this bot token (a second gateway or bot process), or a webhook is set; backing off — stop the other poller";

/**
 * Telegram through grammY's Bot API client, with our own long-polling loop so the
 * update offset is persisted (`<state>/telegram/offset.json`), a 409 conflict or a
 * network error restarts polling with backoff instead of stopping the gateway, and a
 * watchdog restarts a poll that stopped answering.
 */
export class TelegramProvider implements Provider {
  readonly name = "telegram" as const;
  /** Long polls: no client timeout of their own, the watchdog ends a stalled one. */
  private readonly api: Api;
  /** Sends: their own timeout, so a stuck upload neither waits 500 s nor shares the poll's. */
  private readonly sendApi: Api;
  private readonly offsetFile: string;
  private offset: number;
  private connected = false;
  private me: BotIdentity | undefined;
  /** getMe's `can_read_all_group_messages` is false: in groups the bot sees only commands and replies. */
  private privacyMode: boolean | undefined;
  private readonly migrations: TelegramMigrations;
  /** Group albums whose caption addressed the bot (the other items carry none): the album is addressed as a whole. Bounded. */
  private readonly addressedAlbums = new Set<string>();
  private lastError: string | undefined;
  private lastInboundAt: number | undefined;
  private watchdogRestarts = 0;
  /** The watchdog aborted the request in flight: the loop polls again at once. */
  private watchdogFired = false;
  private polling: AbortController | null = null;
  private loop: Promise<void> | null = null;
  /** The request of the poll loop now in flight, and since when: what the watchdog watches. */
  private inflight: { since: number; ctl: AbortController } | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private readonly typingChats: TypingChats;
  /** `lastInboundAt` reaches health on arrival, at most once a second. */
  private readonly inboundStatus: ReturnType<typeof coalesce>;

  constructor(
    private readonly opts: TelegramOptions,
    private readonly deps: ProviderDeps,
  ) {
    // botApiFetch: an outage's HTML error page reads as its status, not as a JSON parse error.
    const root = { ...(opts.apiRoot ? { apiRoot: opts.apiRoot } : {}), fetch: botApiFetch };
    // grammY's own timeout is only a backstop behind the watchdog.
    this.api = new Api(opts.botToken, { ...root, timeoutSeconds: this.pollLimitMs() / 1000 + 60 });
    this.sendApi = new Api(opts.botToken, { ...root, timeoutSeconds: opts.sendTimeoutS ?? 60 });
    this.offsetFile = join(deps.stateDir, "telegram", "offset.json");
    this.offset = readJson<{ offset?: number }>(this.offsetFile, {}).offset ?? 0;
    this.migrations = new TelegramMigrations(join(deps.stateDir, "telegram", "migrations.json"));
    this.typingChats = new TypingChats(opts.typingEveryMs ?? 4_000);
    this.inboundStatus = coalesce(() => this.deps.onStatus(), 1_000);
  }

  /** No answer to a poll loop request within this: the watchdog restarts the loop. */
  private pollLimitMs(): number {
    return ((this.opts.pollTimeoutS ?? 30) + (this.opts.pollMarginS ?? 30)) * 1000;
  }

  status(): ProviderStatus {
    return {
      linked: true,
      connected: this.connected,
      // Sends are plain HTTPS calls: a polling hiccup (409, network) does not stop them.
      sendable: true,
      detail: {
        ...(this.me?.username ? { username: this.me.username } : {}),
        ...(this.lastError ? { lastError: this.lastError } : {}),
        ...(this.lastInboundAt !== undefined ? { lastInboundAt: this.lastInboundAt } : {}),
        ...(this.watchdogRestarts ? { watchdogRestarts: this.watchdogRestarts } : {}),
        ...(this.privacyMode !== undefined ? { privacyMode: this.privacyMode } : {}),
      },
    };
  }

  async start(): Promise<void> {
    this.polling = new AbortController();
    this.loop = this.pollLoop(this.polling.signal);
    this.watchdog = setInterval(() => this.checkPoll(), Math.min(5_000, this.pollLimitMs() / 4));
  }

  async stop(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.typingChats.stopAll();
    this.inboundStatus.cancel();
    this.polling?.abort();
    await this.loop?.catch(() => {});
    this.setConnected(false);
  }

  /** Wall-clock check, so a host that slept is noticed at once when it wakes. */
  private checkPoll(): void {
    const f = this.inflight;
    if (!f || Date.now() - f.since <= this.pollLimitMs()) return;
    this.watchdogRestarts += 1;
    const why = `no getUpdates answer within ${Math.round(this.pollLimitMs() / 1000)} s; the watchdog restarted the poll loop`;
    this.deps.log.warn(`telegram: ${why}`);
    this.watchdogFired = true;
    this.setConnected(false, why);
    f.ctl.abort(new Error(why));
  }

  /** One request of the poll loop, watched by the watchdog. */
  private async watched<T>(signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctl = new AbortController();
    const onStop = () => ctl.abort();
    signal.addEventListener("abort", onStop, { once: true });
    this.inflight = { since: Date.now(), ctl };
    try {
      return await call(ctl.signal);
    } finally {
      this.inflight = null;
      signal.removeEventListener("abort", onStop);
    }
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
        if (!this.me) {
          const me = await this.watched(signal, (s) => this.api.getMe(s as never));
          // Long polling and a webhook exclude each other.
          await this.watched(signal, (s) => this.api.deleteWebhook({ drop_pending_updates: false }, s as never));
          this.me = { id: me.id, ...(me.username ? { username: me.username } : {}) };
          this.privacyMode = me.can_read_all_group_messages !== true;
          this.deps.log.info(`telegram: polling as @${me.username}`);
          if (this.privacyMode && this.opts.groupsEnabled?.()) this.deps.log.warn(`telegram: ${privacyAdvice(me.username)}`);
        }
        const updates = await this.watched(signal, (s) =>
          this.api.getUpdates({ offset: this.offset, timeout: this.opts.pollTimeoutS ?? 30, allowed_updates: ["message", "edited_message", "message_reaction"] }, s as never),
        );
        this.setConnected(true);
        failures = 0;
        for (const u of updates) {
          if (u.message) await this.onMessage(u.message, signal);
          else if (u.message_reaction) await this.deps.onInbound(reactionToInbound(u.message_reaction));
          else if (u.edited_message) await this.onMessage(u.edited_message, signal, true);
          this.offset = u.update_id + 1;
        }
        // Confirmed only once every message of the batch is on disk (ledger + kept for a
        // restart): a crash in between replays the batch, and inbound de-duplication by
        // message id absorbs the replay.
        if (updates.length > 0) {
          privateDir(dirname(this.offsetFile));
          await writeAtomic(this.offsetFile, JSON.stringify({ offset: this.offset }));
        }
      } catch (err) {
        if (signal.aborted) break;
        failures += 1;
        const fatal = err instanceof GrammyError && err.error_code === 401;
        const conflict = err instanceof GrammyError && err.error_code === 409;
        const why = conflict ? CONFLICT : err instanceof HttpError ? this.networkError(err) : describeTelegramError(err);
        const watchdog = this.watchdogFired;
        this.watchdogFired = false;
        if (!watchdog) this.setConnected(false, fatal ? "401 unauthorized: telegram.botToken is wrong" : why);
        if (fatal) {
          this.deps.log.error("telegram: the bot token was rejected (401); polling stopped — fix telegram.botToken");
          return;
        }
        // The watchdog already waited long enough: poll again at once.
        if (watchdog) {
          failures = 0;
          continue;
        }
        // A 429 says how long to stay away; waiting less only earns another 429.
        const retryAfter = err instanceof GrammyError && err.error_code === 429 ? (err.parameters.retry_after ?? 0) * 1000 : 0;
        const delay = Math.max(retryAfter, backoffDelay(failures - 1, { initialMs: 1_000, maxMs: 60_000 }));
        this.deps.log.warn(`telegram: polling failed (${why}); retrying in ${Math.round(delay)} ms`);
        await sleep(delay, signal);
      }
    }
  }

  /** A request that never reached Telegram (getMe at start, a poll): named as the network's doing when it was. */
  private networkError(err: HttpError): string {
    const net = networkCause(err.error);
    return net ? unreachable("Telegram", hostOf(this.opts.apiRoot ?? DEFAULT_API_ROOT), net) : `network error: ${(err.error as Error)?.message ?? err.message}`;
  }

  private async onMessage(m: import("grammy/types").Message, signal: AbortSignal, edited = false): Promise<void> {
    const sink = this.deps.media;
    // A download stops with polling, and on its own timeout (takeMedia): a hung one must not hold up polling for ever.
    const files = { api: this.sendApi, apiRoot: this.opts.apiRoot ?? DEFAULT_API_ROOT, token: this.opts.botToken, signal };
    // A group upgraded to a supergroup: recorded, said once; its new id stands for the old one (issue 21 §8).
    const advice = await this.migrations.observe(m).catch((err: Error) => `could not record a group migration: ${err.message}`);
    if (advice) this.deps.log.warn(`telegram: ${advice}`);
    const msg = toInbound(
      m,
      this.me!,
      sink ? { sink, files } : undefined,
      (err) => this.deps.log.warn("telegram: could not download a message's file; the text goes on", { error: err.message }),
      this.migrations.oldIdOf(String(m.chat.id)),
    );
    if (!msg) return;
    if (edited) Object.assign(msg, asEdit(msg, m.edit_date));
    const album = msg.chatType === "group" ? msg.extras?.albumId : undefined;
    if (album !== undefined) {
      if (msg.addressed) this.addressedAlbums.add(album);
      else msg.addressed = this.addressedAlbums.has(album);
      if (this.addressedAlbums.size > 200) this.addressedAlbums.delete(this.addressedAlbums.values().next().value!);
    }
    this.lastInboundAt = Date.now();
    this.inboundStatus();
    await this.deps.onInbound(msg);
  }

  send(params: ProviderSendParams): Promise<SendResult> {
    return sendTelegram(this.sendApi, params, this.deps.log, this.deps.mediaUrls?.()).catch((err: Error) => {
      // A send outage shows in health too (polling may be fine meanwhile); one message refused is not the provider's state.
      if (!(err instanceof SendError && err.outcome === "final") && !(err instanceof SendMediaError)) this.setConnected(this.connected, err.message);
      throw err;
    });
  }

  /** `sendChatAction typing` at once and every 4 s until every run in the chat stopped it. */
  typing(to: string): () => void {
    const { chat, thread } = parseChat(to);
    return this.typingChats.start(to, () =>
      void this.sendApi.sendChatAction(chat, "typing", thread !== undefined ? { message_thread_id: thread } : {}).catch((err: Error) =>
        this.deps.log.debug("telegram: sendChatAction failed", { chat: to, error: err.message }),
      ),
    );
  }
}
