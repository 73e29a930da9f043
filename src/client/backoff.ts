/** Exponential backoff with equal jitter: the one delay rule for connect retries and reconnects. */
export class Backoff {
  private attempt = 0;
  /** A `shutdown` event's `restartExpectedMs`: the next wait follows it instead. */
  private hintMs: number | null = null;

  constructor(
    private readonly opts: { initialMs?: number; maxMs?: number } = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait before the next attempt (1 s, 2 s, 4 s … up to 30 s by default). */
  next(): number {
    if (this.hintMs !== null) {
      const hint = this.hintMs;
      this.hintMs = null;
      return hint + Math.floor(this.random() * 250);
    }
    const initial = this.opts.initialMs ?? 1_000;
    const max = this.opts.maxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** this.attempt);
    this.attempt += 1;
    // Equal jitter: half fixed, half random, so a fleet does not reconnect in lockstep.
    return Math.round(base / 2 + this.random() * (base / 2));
  }

  /** Connected: start over. */
  reset(): void {
    this.attempt = 0;
  }

  hint(ms: number): void {
    this.hintMs = ms;
  }
}
