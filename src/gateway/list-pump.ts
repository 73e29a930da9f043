/** A client that reads presence as the whole list (the runbook's shape). */
export interface ListReader {
  /** Hold `prefix` as the one list waiting for this client, replacing any older one. */
  offerList(prefix: string): void;
  /** Send the waiting list if the socket has drained; true when nothing is left waiting. */
  flushList(): boolean;
}

export interface ListPumpOptions {
  /** Time spent sending per turn of the event loop, so other clients are answered in between. */
  sliceMs?: number;
  /** A pass that sent lists is followed by a pause of `pace` × its own busy time, at most `maxPauseMs`. */
  pace?: number;
  maxPauseMs?: number;
  /** Pause after a pass that found only readers still draining; doubles up to `maxIdleMs`. */
  idleMs?: number;
  maxIdleMs?: number;
  /** A pacing pause ends early once no list has been offered for this long: the storm is over, nothing is left to conflate. */
  calmMs?: number;
}

/**
 * Full presence lists are state, not a log: each supersedes the one before. The pump
 * sends each waiting reader the newest list only when its socket has drained, in chunks,
 * and paces its passes by what they cost: in a join storm, lists that a newer one
 * replaced before it could leave are never built into frames, so the cost of N joins to
 * N full-list readers stops growing as N³ (issue 25). Delta readers never come here.
 */
export class ListPump {
  private readonly waiting = new Set<ListReader>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The timer waits out a pass's pace (kept) or only polls undrained readers (cut short by an offer). */
  private polling = false;
  private running = false;
  private idle: number;
  private readonly sliceMs: number;
  private readonly pace: number;
  private readonly maxPauseMs: number;
  private readonly idleMs: number;
  private readonly maxIdleMs: number;
  private readonly calmMs: number;
  private lastOfferAt = -Infinity;

  constructor(opts: ListPumpOptions = {}) {
    this.sliceMs = opts.sliceMs ?? 4;
    this.pace = opts.pace ?? 1.5;
    // Bounds how stale a list can be: the last change of a storm reaches everyone soon after it.
    this.maxPauseMs = opts.maxPauseMs ?? 600;
    this.idleMs = opts.idleMs ?? 10;
    this.maxIdleMs = opts.maxIdleMs ?? 80;
    this.calmMs = opts.calmMs ?? 100;
    this.idle = this.idleMs;
  }

  /** `reader` has a new list waiting. */
  offer(reader: ListReader, prefix: string): void {
    reader.offerList(prefix);
    this.waiting.add(reader);
    this.lastOfferAt = performance.now();
    if (this.running) return;
    if (this.timer && this.polling) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.timer) this.schedule(0, false);
  }

  remove(reader: ListReader): void {
    this.waiting.delete(reader);
  }

  /** Readers with a list not yet sent (tests, metrics). */
  get size(): number {
    return this.waiting.size;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.waiting.clear();
  }

  private schedule(ms: number, polling: boolean): void {
    this.polling = polling;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pass();
    }, ms);
  }

  /**
   * The pause after a pass that sent lists: `ms`, or less once offers have stopped for
   * `calmMs` (the last list of a storm then reaches everyone a pass after it, not a full pause later).
   */
  private pause(ms: number): void {
    const until = performance.now() + ms;
    const tick = () => {
      const t = performance.now();
      const calmIn = this.lastOfferAt + this.calmMs - t;
      if (t >= until || calmIn <= 0) {
        this.timer = null;
        return this.pass();
      }
      this.timer = setTimeout(tick, Math.min(until - t, calmIn));
    };
    this.polling = false;
    this.timer = setTimeout(tick, Math.min(ms, Math.max(0, this.lastOfferAt + this.calmMs - performance.now())));
  }

  /** One pass over the readers waiting when it starts; later offers wait for the next. */
  private pass(): void {
    this.running = true;
    const batch = [...this.waiting];
    let i = 0;
    let busy = 0;
    let sent = 0;
    const step = () => {
      const t0 = performance.now();
      let t = t0;
      while (i < batch.length && t - t0 < this.sliceMs) {
        const r = batch[i++]!;
        if (!this.waiting.has(r)) continue; // left meanwhile
        if (r.flushList()) {
          this.waiting.delete(r);
          sent += 1;
          t = performance.now();
        }
      }
      busy += performance.now() - t0;
      if (i < batch.length) return void setImmediate(step);
      this.running = false;
      if (this.waiting.size === 0) return void (this.idle = this.idleMs);
      if (sent > 0) {
        this.idle = this.idleMs;
        this.pause(Math.min(this.maxPauseMs, Math.max(this.idleMs, busy * this.pace)));
      } else {
        // Only readers whose sockets have not drained: look again later, less often.
        this.schedule(this.idle, true);
        this.idle = Math.min(this.maxIdleMs, this.idle * 2);
      }
    };
    step();
  }
}
