import { backoffDelay } from "../core/backoff.ts";
import type { Clock } from "../core/clock.ts";
import type { GatewayError } from "../protocol/index.ts";

/** First wait after a transient failure, and the ceiling the waits grow to. */
const BACKOFF = { initialMs: 1_000, maxMs: 60_000 };

/**
 * The retries of one send (all its parts): after a transient failure — the provider
 * refused for a reason that may pass, or is reconnecting — the next try waits a backoff
 * (or the provider's own `retryAfterMs`, a Telegram `retry_after` whatever its length),
 * as long as the try still falls within `delivery.retryWindowMs` of the first failure in a row.
 * Measured on the monotonic clock, so a wall-clock step neither ends nor stretches the window.
 */
export class RetryBudget {
  private since: number | undefined;
  private failures = 0;

  constructor(
    private readonly windowMs: () => number,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {}

  /** The wait before the next try, or `undefined` when that try would fall outside the window. */
  next(err: unknown): number | undefined {
    const now = this.clock.mono();
    this.since ??= now;
    const advised = (err as GatewayError).retryAfterMs;
    const wait = advised !== undefined && advised > 0 ? advised : backoffDelay(this.failures, BACKOFF, this.random);
    this.failures += 1;
    return now - this.since + wait <= this.windowMs() ? wait : undefined;
  }

  /** A part went out: a later failure starts a new window and backs off from the start. */
  succeeded(): void {
    this.failures = 0;
    this.since = undefined;
  }
}
