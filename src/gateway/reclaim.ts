/**
 * Memory back after a burst. A join storm makes a hello-ok per joiner holding the whole
 * presence list, and full-list readers a frame each per change: at 5,000 joins that is
 * gigabytes of short-lived text. The runtime frees it when it next collects, which after a
 * storm (no allocation, so no pressure) came 10–20 s later; until then RSS stayed up to 3×
 * what the live connections hold (BENCHMARKS.md, 4a). So the large frames written are
 * counted, and once `thresholdBytes` of them were written and no large frame came for
 * `quietMs`, one full collection runs — at most one per `minIntervalMs`. Small traffic never
 * reaches the threshold; nothing runs where no collection can be reached (runtime/collect.ts).
 */
export interface ReclaimOptions {
  /** Frames this long (UTF-16 units) or longer are counted. */
  largeFrame: number;
  thresholdBytes: number;
  quietMs: number;
  minIntervalMs: number;
}

export const RECLAIM_DEFAULTS: ReclaimOptions = { largeFrame: 32 * 1024, thresholdBytes: 64 * 1024 * 1024, quietMs: 500, minIntervalMs: 1_000 };

export class Reclaim {
  private bytes = 0;
  private lastLargeAt = 0;
  private lastRunAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Collections run so far (health of the policy, tests). */
  runs = 0;

  constructor(
    private readonly collect: (() => void) | null,
    private readonly onRun: (info: { bytes: number; ms: number }) => void = () => {},
    private readonly opts: ReclaimOptions = RECLAIM_DEFAULTS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A frame of this length was written. One comparison for small frames. */
  note(length: number): void {
    if (length < this.opts.largeFrame || this.collect === null) return;
    this.bytes += length;
    this.lastLargeAt = this.now();
    if (this.bytes >= this.opts.thresholdBytes && this.timer === null) this.arm(this.opts.quietMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.due(), ms);
    (this.timer as { unref?: () => void }).unref?.();
  }

  private due(): void {
    this.timer = null;
    const t = this.now();
    // Still bursting, or collected lately: look again when it could be time.
    const wait = Math.max(this.lastLargeAt + this.opts.quietMs - t, this.lastRunAt + this.opts.minIntervalMs - t);
    if (wait > 0) return this.arm(wait);
    const bytes = this.bytes;
    this.bytes = 0;
    this.collect!();
    this.lastRunAt = this.now();
    this.runs += 1;
    this.onRun({ bytes, ms: this.lastRunAt - t });
  }
}
