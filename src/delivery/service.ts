import { systemClock, type Clock } from "../core/clock.ts";
import { GatewayError, type AgentFinal, type AgentParams, type LedgerRecord, type ProviderName, type SendResult } from "../protocol/index.ts";
import { Outbox, queuedAge, type OutboxEntry } from "./outbox.ts";
import { PacingQueue, type PacingOptions } from "./pacing.ts";
import { PendingSend } from "./pending.ts";
import { loadMarkdown, markdownLoaded } from "./format/index.ts";
import { isRendered, partsOf } from "./parts.ts";
import { sendReply, type DeliverySend } from "./reply.ts";
import { explain, interrupted, interruptedError, partKey, resultOf, settledByLedger } from "./records.ts";
import { RetryBudget } from "./retry.ts";
import { routeOrWait } from "./route.ts";
import { live, type DeliveryOptions } from "./types.ts";

const SHUTTING_DOWN = () =>
  new GatewayError("UNAVAILABLE", "the gateway is shutting down; the send stays queued and goes out after the restart", { retryable: true });

/**
 * Every provider send — `send`, agent replies, deliver — goes through here: once per
 * idempotency key (the ledger is the record, across restarts), split when longer than
 * the provider allows (every part a ledger record, one key for all), paced by one queue
 * per provider, and durable while it waits (`queued` in the ledger, the text in the
 * outbox until it is sent). A send answers when its last part went out.
 */
export class Delivery {
  /** Sends waiting for `marked` to load (see sendOnce). */
  private markdownWaiters = 0;
  private readonly queues: Record<ProviderName, PacingQueue>;
  private readonly inflight = new Map<string, Promise<SendResult>>();
  private readonly outbox: Outbox;
  /** Sends in a queue, with how long each had waited before (a restart) and since when (monotonic) it waits now. */
  private readonly waiting = new Map<PendingSend, { agedMs: number; since: number }>();
  private readonly lastSent: Partial<Record<ProviderName, number>> = {};
  private readonly retryingNow: Record<ProviderName, number> = { whatsapp: 0, telegram: 0 };
  private readonly clock: Clock;
  private markReady!: () => void;
  private readonly ready = new Promise<void>((r) => (this.markReady = r));
  private stopped = false;

  constructor(private readonly opts: DeliveryOptions) {
    this.outbox = new Outbox(opts.outboxDir, (note) => opts.log.warn(note));
    this.clock = opts.clock ?? systemClock;
    const queue = (p: () => PacingOptions) => new PacingQueue(p, { onChange: () => opts.onQueueChange?.(), clock: this.clock });
    this.queues = { whatsapp: queue(() => live(opts.pacing).whatsapp), telegram: queue(() => live(opts.pacing).telegram) };
  }

  /** Wall-clock now: for records and for ages across a restart only. */
  private now(): number {
    return this.clock.wall();
  }

  private maxQueuedAgeMs(): number {
    return live(this.opts.maxQueuedAgeMs ?? 86_400_000);
  }

  /** Sends waiting in a provider's queue. */
  queued(provider: ProviderName): number {
    return this.queues[provider].length;
  }

  /** Sends of a provider waiting to be tried again after a transient failure (or for the provider to reconnect). */
  retrying(provider: ProviderName): number {
    return this.retryingNow[provider];
  }

  /** When a provider last accepted a send (since start-up). */
  lastSendAt(provider: ProviderName): number | undefined {
    return this.lastSent[provider];
  }

  /** Send once per `idempotencyKey`; a repeat joins the first or is answered from the ledger. */
  send(params: DeliverySend): Promise<SendResult> {
    const key = params.idempotencyKey;
    const joined = this.inflight.get(key);
    if (joined) return joined;
    return this.track(key, this.ready.then(() => this.sendOnce(params)));
  }

  /**
   * How the send with this key ended, without sending anything: waits for a queued send
   * (one resumed from the outbox after a restart) to go out. A key the ledger does not
   * know, or whose queued text was lost, is an error naming the key.
   */
  async outcome(key: string): Promise<SendResult> {
    await this.ready;
    const joined = this.inflight.get(key);
    if (joined) return joined;
    const prior = this.opts.ledger.byIdempotencyKey(key);
    if (!prior) throw new GatewayError("INVALID_REQUEST", `no send with idempotencyKey "${key}" in the ledger`, { details: { idempotencyKey: key } });
    const { result, recs } = settledByLedger(this.opts.ledger, key, prior);
    if (result) return result;
    const failed = recs.find((r) => r?.status === "failed");
    throw new GatewayError("UNAVAILABLE", failed?.reason ?? `the send with idempotencyKey "${key}" was not kept across the restart (its queued text is gone)`, {
      retryable: false,
      details: { idempotencyKey: key },
    });
  }

  /** `deliver:true`: the run's reply through `send` (its own key); reported in the final, never failing the run. */
  async deliver(params: AgentParams, final: AgentFinal, via?: ProviderName, replyTo?: string): Promise<AgentFinal> {
    if (!params.deliver || !params.to || final.status !== "ok") return final;
    if (final.summary.trim() === "") {
      // A provider refuses an empty message; say so instead of failing at its door.
      return { ...final, delivery: { ok: false, error: { code: "INVALID_REQUEST", message: "the agent's reply was empty: nothing was sent" } } };
    }
    try {
      const base = { to: params.to, idempotencyKey: `${params.idempotencyKey}:deliver`, ...(via ? { provider: via } : {}), ...(replyTo ? { replyTo } : {}) };
      // Markdown rendered per network; `MEDIA:` lines become files (src/delivery/reply.ts).
      const sent = await sendReply({ send: (p) => this.send(p), ledger: this.opts.ledger, mediaDirs: live(this.opts.mediaDirs ?? []), ...(this.opts.mediaUrls ? { urls: live(this.opts.mediaUrls) } : {}) }, base, final.summary);
      return { ...final, delivery: { ok: true, provider: sent.provider, messageId: sent.messageId } };
    } catch (err) {
      const error = err instanceof GatewayError ? err.toShape() : { code: "UNAVAILABLE" as const, message: (err as Error).message };
      return { ...final, delivery: { ok: false, error } };
    }
  }

  /**
   * After the providers started: sends queued before a restart go out (once, same key),
   * paced as if there had been no restart. Sends wait for this.
   */
  resume(): void {
    const pacing = live(this.opts.pacing);
    const since = this.now() - 60_000 - Math.max(pacing.whatsapp.perChatMinIntervalMs, pacing.telegram.perChatMinIntervalMs);
    const sent = this.opts.ledger.list({ status: "sent", direction: "outbound", since, limit: 100_000 });
    for (const name of ["whatsapp", "telegram"] as const) {
      this.queues[name].seed(sent.filter((r) => r.provider === name).map((r) => ({ chat: r.chat, at: r.updatedAt })));
    }
    const maxAge = this.maxQueuedAgeMs();
    const all = this.outbox.load();
    const entries = all.filter((e) => e.failedAt === undefined);
    for (const e of all) {
      // Kept for a retry only; after a day nobody retries.
      if (e.failedAt !== undefined && this.now() - e.failedAt > maxAge) void this.outbox.delete(e.key);
    }
    for (const entry of entries) {
      if (this.inflight.has(entry.key)) continue;
      // Sent long after it was asked for is worse than not sent: a day-old queued send is dropped, with a record.
      const age = queuedAge(entry, this.now());
      this.track(entry.key, age > maxAge ? this.expire(entry) : this.dispatch(entry, false, age)).catch((err) =>
        this.opts.log.warn("a send queued before the restart failed", { idempotencyKey: entry.key, error: explain(err) }),
      );
    }
    if (entries.length) this.opts.log.info(`resuming ${entries.length} queued send(s) from before the restart`);
    this.markReady();
  }

  /**
   * Start nothing new; waiting sends stay queued on disk and go out after the restart
   * (their requests are answered UNAVAILABLE now). A send made while stopping — a run's
   * reply that just finished — is queued the same way rather than lost. Each waiting
   * send's outbox entry keeps how long it has waited, measured on the monotonic clock, so
   * its age after the restart does not depend on a wall clock that stepped meanwhile.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const q of Object.values(this.queues)) q.stop();
    const savedAt = this.now();
    const saves: Promise<void>[] = [];
    for (const [send, age] of this.waiting) {
      send.abort(SHUTTING_DOWN());
      const agedMs = Math.round(age.agedMs + this.clock.mono() - age.since);
      saves.push(this.outbox.put({ ...send.entry, agedMs, savedAt }).catch((err) => this.opts.log.warn("could not note a queued send's age", { error: explain(err) })));
    }
    this.waiting.clear();
    await Promise.all(saves);
  }

  /** A queued send too old to go out: its unsent parts fail with the reason, the outbox forgets it. */
  private async expire(entry: OutboxEntry): Promise<SendResult> {
    const reason = `not sent: it waited in the queue for more than delivery.maxQueuedAgeMs (${this.maxQueuedAgeMs()} ms), the gateway being down meanwhile`;
    for (let i = 1; i <= entry.parts.length; i++) {
      const r = this.opts.ledger.byIdempotencyKey(partKey(entry.key, i));
      if (r && r.status !== "sent" && !interrupted(r)) await this.opts.ledger.update(r.id, { status: "failed", reason });
    }
    await this.outbox.delete(entry.key);
    throw new GatewayError("UNAVAILABLE", reason, { retryable: false });
  }

  private track(key: string, p: Promise<SendResult>): Promise<SendResult> {
    this.inflight.set(key, p);
    const forget = () => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    };
    p.then(forget, forget);
    return p;
  }

  private async sendOnce(params: DeliverySend): Promise<SendResult> {
    // Only in the first moments after start (the gateway loads it once it listens). While any
    // send waits, every later one waits too (behind it): sends keep the order they were made in.
    if (!markdownLoaded() || this.markdownWaiters > 0) {
      this.markdownWaiters += 1;
      try {
        await loadMarkdown();
      } finally {
        this.markdownWaiters -= 1;
      }
    }
    const key = params.idempotencyKey;
    const prior = this.opts.ledger.byIdempotencyKey(key);
    const settled = prior && settledByLedger(this.opts.ledger, key, prior).result;
    if (settled) return settled;
    let provider: ProviderName;
    try {
      provider = routeOrWait(this.opts.providers, params);
      if (this.queues[provider].full) {
        throw new GatewayError("UNAVAILABLE", `${provider}: too many sends waiting; try again later`, { retryable: true, retryAfterMs: 60_000 });
      }
    } catch (err) {
      const fields = { status: "failed" as const, reason: explain(err) };
      if (prior) await this.opts.ledger.update(prior.id, fields);
      else {
        const chat = params.to;
        await this.opts.ledger.create({ direction: "outbound", provider: params.provider ?? "whatsapp", chat, idempotencyKey: key, ...fields }, params.message);
      }
      throw err;
    }
    const entry: OutboxEntry = {
      key,
      provider,
      to: params.to,
      ...(params.mediaUrl ? { mediaUrl: params.mediaUrl } : {}),
      ...(params.mediaPath ? { mediaPath: params.mediaPath } : {}),
      ...(params.mediaOptional ? { mediaOptional: true } : {}),
      ...(isRendered(params, provider, this.opts) && provider === "telegram" ? { html: true } : {}),
      ...(params.replyTo ? { replyTo: params.replyTo } : {}),
      // A retry of a send that failed part-way reuses its parts: parts are matched by index.
      parts: (prior && this.outbox.get(key)?.parts) || partsOf(params, provider, this.opts),
      createdAt: this.now(),
    };
    return this.dispatch(entry, true);
  }

  /**
   * Queue the parts not sent yet; resolves when the last one went out. The jobs join the
   * queue at once (so sends keep the order they were made in); each waits for its
   * records and the outbox file to be on disk before it is sent.
   */
  private dispatch(entry: OutboxEntry, fresh: boolean, agedMs = 0): Promise<SendResult> {
    const { ledger } = this.opts;
    const n = entry.parts.length;
    const recs: LedgerRecord[] = [];
    const todo: number[] = [];
    let lost: LedgerRecord | undefined;
    for (let i = 1; i <= n; i++) {
      const prior = ledger.byIdempotencyKey(partKey(entry.key, i));
      if (prior) recs[i - 1] = prior;
      // An interrupted part's outcome is unknown: not sent again; the parts after it still go.
      if (interrupted(prior)) lost ??= prior;
      else if (prior?.status !== "sent") todo.push(i);
    }
    const prepared = (async () => {
      if (fresh && todo.length) await this.outbox.put(entry);
      for (const i of todo) {
        const fields = { status: "queued" as const, provider: entry.provider, ...(n > 1 ? { part: i, parts: n } : {}) };
        const prior = recs[i - 1];
        recs[i - 1] = prior
          ? await ledger.update(prior.id, fields)
          : await ledger.create({ direction: "outbound", chat: entry.to, idempotencyKey: partKey(entry.key, i), ...fields }, entry.parts[i - 1]);
      }
    })();
    // Seen by every job (which then fails the send); marked handled so it is not reported twice.
    prepared.catch(() => {});
    if (todo.length === 0) {
      return prepared.then(async () => {
        await this.outbox.delete(entry.key);
        if (lost) throw interruptedError(entry.key, lost.id);
        return resultOf(recs);
      });
    }
    const queue = this.queues[entry.provider];
    const send = new PendingSend(entry, recs, todo, lost, prepared, {
      ledger,
      queue,
      route: () => this.opts.providers.route({ to: entry.to, message: "", idempotencyKey: entry.key, provider: entry.provider }),
      retry: new RetryBudget(() => live(this.opts.retryWindowMs ?? 600_000), this.clock),
      retrying: (waiting) => {
        this.retryingNow[entry.provider] += waiting ? 1 : -1;
        this.opts.onQueueChange?.();
      },
      sent: (at) => (this.lastSent[entry.provider] = at),
      done: async (err) => {
        this.waiting.delete(send);
        // A failed send keeps its parts (not resumed): a retry with the key sends the same split.
        return err && send.partlySent() ? this.outbox.put({ ...entry, failedAt: this.now() }) : this.outbox.delete(entry.key);
      },
    });
    if (this.stopped) void prepared.then(() => send.abort(SHUTTING_DOWN()), send.abort);
    else this.waiting.set(send, { agedMs, since: this.clock.mono() });
    return send.result;
  }
}
