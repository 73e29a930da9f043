/**
 * Memory back after a burst. A join storm makes a hello-ok per joiner holding the whole
 * presence list, and full-list readers a frame each per change: at 5,000 joins that is
 * gigabytes of short-lived text. The runtime frees it when it next collects, which after a
 * storm (no allocation, so no pressure) came 10–20 s later; until then RSS stayed up to 3×
 * what the live connections hold (BENCHMARKS.md, 4a). So the large frames written are
 * counted, and when `threshold` characters of them were written in one burst (frames with
 * gaps under `quietMs`) and the burst is over, one full collection runs. Bursts that stay
 * under the threshold are forgotten; a burst is not over while full lists still wait to go
 * out; collections are at least `minIntervalMs` apart, and at
 * least 50× the last one's pause (a big heap's slow collection is rarer). Nothing runs where
 * no collection can be reached (runtime/collect.ts).
 */
export interface ReclaimOptions {
  /** Frames this long (UTF-16 units) or longer are counted. */
  largeFrame: number;
  /** Characters of large frames in one burst that make it worth a collection. */
  threshold: number;
  quietMs: number;
  minIntervalMs: number;
}

export const RECLAIM_DEFAULTS: ReclaimOptions = { largeFrame: 32 * 1024, threshold: 64 * 1024 * 1024, quietMs: 500, minIntervalMs: 1_000 };

export class Reclaim {
  private chars = 0;
  private lastLargeAt = -Infinity;
  private lastRunAt = -Infinity;
  private lastRunMs = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Collections run so far. */
  runs = 0;

  constructor(
    private readonly collect: (() => void) | null,
    private readonly onRun: (info: { chars: number; ms: number }) => void = () => {},
    private readonly opts: ReclaimOptions = RECLAIM_DEFAULTS,
    private readonly now: () => number = () => performance.now(),
    /** Work of the burst still pending (full lists waiting in the ListPump, whose pauses can exceed quietMs): wait. */
    private readonly busy: () => boolean = () => false,
  ) {}

  /** A frame of this length was written. One comparison for small frames. */
  note(length: number): void {
    if (length < this.opts.largeFrame || this.collect === null) return;
    const t = this.now();
    // A gap longer than quietMs ended the last burst: one under the threshold is forgotten.
    if (t - this.lastLargeAt > this.opts.quietMs && this.timer === null) this.chars = 0;
    this.chars += length;
    this.lastLargeAt = t;
    if (this.chars >= this.opts.threshold && this.timer === null) this.arm(this.opts.quietMs);
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
    const gap = Math.max(this.opts.minIntervalMs, 50 * this.lastRunMs);
    // Still bursting, or collected lately: look again when it could be time.
    const wait = Math.max(this.lastLargeAt + this.opts.quietMs - t, this.lastRunAt + gap - t);
    if (wait > 0) return this.arm(wait);
    if (this.busy()) return this.arm(this.opts.quietMs);
    const chars = this.chars;
    this.chars = 0;
    this.collect!();
    this.lastRunAt = this.now();
    this.lastRunMs = this.lastRunAt - t;
    this.runs += 1;
    this.onRun({ chars, ms: this.lastRunMs });
  }
}
