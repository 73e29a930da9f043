import { GatewayError, type LedgerRecord, type SendResult } from "../protocol/index.ts";
import type { Provider } from "../providers/index.ts";
import { SendMediaError } from "../providers/media.ts";
import { sendOutcome } from "../providers/send-error.ts";
import type { OutboxEntry } from "./outbox.ts";
import type { PacedJob, PacingQueue } from "./pacing.ts";
import { telegramPart } from "./format/index.ts";
import { explain, interruptedError, partKey, resultOf } from "./records.ts";
import type { RetryBudget } from "./retry.ts";
import type { SendLedger } from "./types.ts";

export interface PendingDeps {
  ledger: SendLedger;
  queue: PacingQueue;
  /** The provider to send through now (throws when it cannot send: a retryable error while it reconnects). */
  route: () => Provider;
  /** The retries of this send (transient errors and a provider reconnecting) within `delivery.retryWindowMs`. */
  retry: RetryBudget;
  /** The send starts or stops waiting for a retry (health's `retrying`). */
  retrying: (waiting: boolean) => void;
  /** A part went out (health's `lastSendAt`). */
  sent: (at: number) => void;
  /** The send is over: settle its outbox entry; the caller hears of the send once this is done. */
  done: (err?: Error) => Promise<void>;
}

/**
 * One send in a pacing queue: its parts not sent yet, one job each, in order. A transient
 * failure puts the part back in the queue after a wait (the chat's later sends wait behind
 * it, keeping their order); a part whose answer was lost is `interrupted` (never sent
 * again) and the parts after it still go; the first final refusal, or a retry window run
 * out, fails the send and the parts after it are marked not sent (a retry with the same
 * key sends them). `result` settles when the last part went out.
 */
export class PendingSend {
  readonly result: Promise<SendResult>;
  private resolve!: (r: SendResult) => void;
  private reject!: (err: Error) => void;
  private readonly jobs = new Set<PacedJob>();
  private left: number;
  private settled = false;
  /** Provider calls made per part (index = part - 1), counted across restarts through the ledger. */
  private readonly attempts: number[];
  private waitingRetry = false;

  constructor(
    readonly entry: OutboxEntry,
    private readonly recs: LedgerRecord[],
    private readonly todo: number[],
    private lost: LedgerRecord | undefined,
    /** Resolves once the `queued` records (and the outbox file) are on disk. */
    private readonly prepared: Promise<void>,
    private readonly deps: PendingDeps,
  ) {
    this.left = todo.length;
    this.attempts = entry.parts.map((_, i) => recs[i]?.attempts ?? 0);
    this.result = new Promise<SendResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    for (const i of todo) {
      const job: PacedJob = {
        chat: entry.to,
        run: () =>
          this.sendPart(i).catch((err: unknown) => {
            // The ledger or the disk failed, not the provider: the send fails, the queue goes on.
            this.settle(err as Error);
            return undefined;
          }),
      };
      this.jobs.add(job);
      deps.queue.push(job);
    }
  }

  /** Some part of this send went out (now or before): a retry must send the rest of the same split. */
  partlySent(): boolean {
    return this.entry.parts.length > 1 && this.recs.some((r) => r?.status === "sent");
  }

  /** Stop waiting (the gateway is shutting down): the parts stay queued on disk. */
  readonly abort = (err: Error): void => {
    if (this.settled) return;
    this.settled = true;
    this.setRetrying(false);
    this.reject(err);
  };

  private setRetrying(waiting: boolean): void {
    if (waiting === this.waitingRetry) return;
    this.waitingRetry = waiting;
    this.deps.retrying(waiting);
  }

  private settle(err?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.setRetrying(false);
    this.deps.queue.remove((j) => this.jobs.has(j));
    // Answered only once the outbox agrees: a retry right after sees the settled entry.
    void this.deps.done(err).catch(() => {}).then(() => {
      if (err) this.reject(err);
      else if (this.lost) this.reject(interruptedError(this.entry.key, this.lost.id, this.lost.lastError ? "lost its answer (the provider did not say whether it arrived)" : undefined));
      else this.resolve(resultOf(this.recs));
    });
  }

  private async sendPart(i: number): Promise<number | undefined> {
    await this.prepared;
    if (this.settled) return undefined;
    this.setRetrying(false);
    let provider: Provider;
    try {
      provider = this.deps.route();
    } catch (err) {
      return this.failed(i, err, false);
    }
    const { ledger } = this.deps;
    const attempts = ++this.attempts[i - 1]!;
    const rec = await ledger.update(this.recs[i - 1]!.id, { status: "sending", attempts });
    let res: SendResult;
    try {
      const media = i === 1 && this.entry.mediaUrl ? { mediaUrl: this.entry.mediaUrl } : i === 1 && this.entry.mediaPath ? { mediaPath: this.entry.mediaPath } : {};
      const reply = i === 1 && this.entry.replyTo ? { replyTo: this.entry.replyTo } : {};
      const { to, parts, key, provider: name } = this.entry;
      res = await provider.send({ to, message: parts[i - 1]!, idempotencyKey: partKey(key, i), provider: name, ...media, ...reply, ...(this.entry.html ? telegramPart(parts[i - 1]!) : {}) });
    } catch (err) {
      return this.failed(i, err, true);
    }
    this.deps.retry.succeeded();
    // It went out: a failure to record that (a full disk) is not the provider's refusal. The
    // ledger keeps `sent` in memory (saved once it has room), so a retry is answered, not sent again.
    this.recs[i - 1] = await ledger.update(rec.id, { status: "sent", providerMessageId: res.messageId, chat: res.to });
    this.deps.sent(this.recs[i - 1]!.updatedAt);
    if (--this.left === 0) this.settle();
    return undefined;
  }

  /** Part `i` did not go out: wait and try again, give it up as interrupted, or fail the send. */
  private async failed(i: number, err: unknown, attempted: boolean): Promise<number | undefined> {
    const { ledger } = this.deps;
    const id = this.recs[i - 1]!.id;
    const lastError = explain(err);
    const outcome = sendOutcome(err);
    if (outcome === "unknown") {
      // The request left and its answer was lost: sending again could deliver it twice.
      this.recs[i - 1] = await ledger.update(id, { status: "interrupted", reason: `outcome unknown, not sent again: ${lastError}`, lastError });
      this.lost ??= this.recs[i - 1];
      if (--this.left === 0) this.settle();
      return undefined;
    }
    if (outcome === "final" && i === 1 && this.entry.mediaOptional && err instanceof SendMediaError) {
      // An agent's `MEDIA:` file that cannot be fetched or read: skipped with the reason; the reply's text is not failed by it.
      this.recs[0] = await ledger.update(id, { status: "skipped", reason: `MEDIA: ${err.message.replace(/^mediaUrl /, "")}` });
      this.settle(err);
      return undefined;
    }
    const wait = outcome === "transient" ? this.deps.retry.next(err) : undefined;
    if (wait !== undefined) {
      // Back to `queued`: known not sent, so a restart sends it again too.
      if (attempted || this.recs[i - 1]!.lastError !== lastError) this.recs[i - 1] = await ledger.update(id, { status: "queued", lastError });
      this.setRetrying(true);
      return wait;
    }
    const spent = () =>
      new GatewayError("UNAVAILABLE", `${(err as Error).message} (still failing at the end of delivery.retryWindowMs)`, { retryable: true, details: (err as GatewayError).details });
    await this.fail(i, outcome === "transient" ? spent() : err, this.attempts[i - 1] ? lastError : undefined);
    return undefined;
  }

  private async fail(i: number, err: unknown, lastError?: string): Promise<void> {
    this.deps.queue.remove((j) => this.jobs.has(j));
    const { ledger } = this.deps;
    const reason = explain(err);
    this.recs[i - 1] = await ledger.update(this.recs[i - 1]!.id, { status: "failed", reason, ...(lastError ? { lastError } : {}) });
    for (const k of this.todo) {
      if (k > i) this.recs[k - 1] = await ledger.update(this.recs[k - 1]!.id, { status: "failed", reason: `not sent: part ${i} of ${this.entry.parts.length} failed` });
    }
    this.settle(err as Error);
  }
}
