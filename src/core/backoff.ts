export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  initialMs: number;
  /** Ceiling of the delay, before jitter. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

/**
 * Delay before retry number `attempt` (0 = the first): exponential up to `maxMs`, with
 * equal jitter — half fixed, half random — so a fleet of clients does not retry in
 * lockstep, yet never retries sooner than half the nominal delay.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const nominal = Math.min(opts.maxMs, opts.initialMs * (opts.factor ?? 2) ** Math.max(0, attempt));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

/**
 * The attempt counter around `backoffDelay` for one reconnecting thing (1 s, 2 s, 4 s … up
 * to 30 s by default). No imports beyond this file: the client (browsers too) uses it.
 */
export class Backoff {
  private attempt = 0;
  /** A `shutdown` event's `restartExpectedMs`: the next wait follows it instead. */
  private hintMs: number | null = null;

  constructor(
    private readonly opts: { initialMs?: number; maxMs?: number } = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait before the next attempt. */
  next(): number {
    if (this.hintMs !== null) {
      const hint = this.hintMs;
      this.hintMs = null;
      return hint + Math.floor(this.random() * 250);
    }
    const opts = { initialMs: this.opts.initialMs ?? 1_000, maxMs: this.opts.maxMs ?? 30_000 };
    return backoffDelay(this.attempt++, opts, this.random);
  }

  /** Connected: start over. */
  reset(): void {
    this.attempt = 0;
  }

  hint(ms: number): void {
    this.hintMs = ms;
  }
}
