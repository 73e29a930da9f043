import type { GatewayError, LedgerRecord, SendResult } from "../protocol/index.ts";
import type { Provider } from "../providers/index.ts";
import type { OutboxEntry } from "./outbox.ts";
import type { PacedJob, PacingQueue } from "./pacing.ts";
import { explain, interruptedError, partKey, resultOf } from "./records.ts";
import type { SendLedger } from "./types.ts";

export interface PendingDeps {
  ledger: SendLedger;
  queue: PacingQueue;
  /** The provider to send through now (throws when it cannot send). */
  route: () => Provider;
  /** Whether a routing failure is worth waiting out (the provider reconnects) rather than failing. */
  patient: (err: unknown) => boolean;
  /** A part went out (health's `lastSendAt`). */
  sent: (at: number) => void;
  /** Called once when the send settled, either way (with the error when it failed). */
  /** The send is over: settle its outbox entry; the caller hears of the send once this is done. */
  done: (err?: Error) => Promise<void>;
}

/**
 * One send in a pacing queue: its parts not sent yet, one job each, in order. The first
 * part the provider refuses fails the send; the parts after it are marked not sent (a
 * retry with the same key sends them). `result` settles when the last part went out.
 */
export class PendingSend {
  readonly result: Promise<SendResult>;
  private resolve!: (r: SendResult) => void;
  private reject!: (err: Error) => void;
  private readonly jobs = new Set<PacedJob>();
  private left: number;
  private settled = false;

  constructor(
    private readonly entry: OutboxEntry,
    private readonly recs: LedgerRecord[],
    private readonly todo: number[],
    private readonly lost: LedgerRecord | undefined,
    /** Resolves once the `queued` records (and the outbox file) are on disk. */
    private readonly prepared: Promise<void>,
    private readonly deps: PendingDeps,
  ) {
    this.left = todo.length;
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
    this.reject(err);
  };

  private settle(err?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.deps.queue.remove((j) => this.jobs.has(j));
    // Answered only once the outbox agrees: a retry right after sees the settled entry.
    void this.deps.done(err).catch(() => {}).then(() => {
      if (err) this.reject(err);
      else if (this.lost) this.reject(interruptedError(this.entry.key, this.lost.id));
      else this.resolve(resultOf(this.recs));
    });
  }

  private async sendPart(i: number): Promise<number | undefined> {
    await this.prepared;
    const { ledger } = this.deps;
    let provider: Provider;
    try {
      provider = this.deps.route();
    } catch (err) {
      if (this.deps.patient(err)) return (err as GatewayError).retryAfterMs ?? 2_000;
      await this.fail(i, err);
      return undefined;
    }
    const rec = await ledger.update(this.recs[i - 1]!.id, { status: "sending" });
    let res: SendResult;
    try {
      const media = i === 1 && this.entry.mediaUrl ? { mediaUrl: this.entry.mediaUrl } : {};
      const reply = i === 1 && this.entry.replyTo ? { replyTo: this.entry.replyTo } : {};
      const { to, parts, key, provider: name } = this.entry;
      res = await provider.send({ to, message: parts[i - 1]!, idempotencyKey: partKey(key, i), provider: name, ...media, ...reply });
    } catch (err) {
      // The provider refused: nothing went out, so a retry may try again.
      await this.fail(i, err);
      return undefined;
    }
    // It went out: a failure to record that (a full disk) is not the provider's refusal. The
    // ledger keeps `sent` in memory (saved once it has room), so a retry is answered, not sent again.
    this.recs[i - 1] = await ledger.update(rec.id, { status: "sent", providerMessageId: res.messageId, chat: res.to });
    this.deps.sent(this.recs[i - 1]!.updatedAt);
    if (--this.left === 0) this.settle();
    return undefined;
  }

  private async fail(i: number, err: unknown): Promise<void> {
    this.deps.queue.remove((j) => this.jobs.has(j));
    const { ledger } = this.deps;
    this.recs[i - 1] = await ledger.update(this.recs[i - 1]!.id, { status: "failed", reason: explain(err) });
    for (const k of this.todo) {
      if (k > i) this.recs[k - 1] = await ledger.update(this.recs[k - 1]!.id, { status: "failed", reason: `not sent: part ${i} of ${this.entry.parts.length} failed` });
    }
    this.settle(err as Error);
  }
}
