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
