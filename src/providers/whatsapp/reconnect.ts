import { backoffDelay } from "../../core/backoff.ts";
import type { WhatsAppOptions } from "./options.ts";

/**
 * When the socket is opened again: after a backoff with jitter that grows with each failed
 * attempt (at once for a restart, which counts no attempt); a healthy minute forgives the
 * failures before it.
 */
export class ReconnectSchedule {
  private count = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private healthyTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly opts: Pick<WhatsAppOptions, "backoff" | "healthyAfterMs">,
    /** The attempt count went back to zero (health shows it). */
    private readonly onForgiven: () => void,
  ) {}

  /** Failed attempts since the last healthy connection. */
  get attempts(): number {
    return this.count;
  }

  /** The socket opened: once it has stayed up `healthyAfterMs`, the count starts over. */
  opened(): void {
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    this.healthyTimer = setTimeout(() => {
      this.count = 0;
      this.onForgiven();
    }, this.opts.healthyAfterMs ?? 60_000);
  }

  /** The socket closed before it was forgiven anything. */
  closed(): void {
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
  }

  /** Schedule `reconnect` and say after how many ms. */
  next(restart: boolean, reconnect: () => void): number {
    const backoff = { initialMs: this.opts.backoff?.initialMs ?? 2_000, maxMs: this.opts.backoff?.maxMs ?? 30_000 };
    const delay = restart ? 0 : backoffDelay(this.count++, backoff);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      reconnect();
    }, delay);
    return delay;
  }

  /** Nothing scheduled fires (stop, logout, a login taking over). */
  clear(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    this.reconnectTimer = this.healthyTimer = null;
  }
}
