import { isLoopback } from "./net.ts";

export interface AuthLimitOptions {
  /** Failed attempts allowed per address within `windowMs`. */
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at once; the oldest are forgotten first. */
  maxAddresses?: number;
  now?: () => number;
}

/**
 * Failed `hello` auth attempts per remote address, in a fixed window. Loopback clients
 * without a browser Origin (the local CLI, the macOS app) are not limited; a browser
 * page on this host is, like any remote address.
 */
export class AuthLimiter {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();
  private readonly now: () => number;

  constructor(private readonly opts: AuthLimitOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** A config reload changed `gateway.authFailuresPerMinute`. */
  setMaxFailures(maxFailures: number): void {
    this.opts.maxFailures = maxFailures;
  }

  private key(remote: string, origin: string | undefined): string | null {
    if (isLoopback(remote) && origin === undefined) return null;
    return remote;
  }

  /** ms until this address may try again, or 0 when it may try now. */
  retryAfter(remote: string, origin: string | undefined): number {
    const key = this.key(remote, origin);
    const entry = key === null ? undefined : this.failures.get(key);
    if (!entry) return 0;
    const elapsed = this.now() - entry.windowStart;
    if (elapsed >= this.opts.windowMs) {
      this.failures.delete(key!);
      return 0;
    }
    return entry.count >= this.opts.maxFailures ? this.opts.windowMs - elapsed : 0;
  }

  fail(remote: string, origin: string | undefined): void {
    const key = this.key(remote, origin);
    if (key === null) return;
    const now = this.now();
    const entry = this.failures.get(key);
    if (!entry || now - entry.windowStart >= this.opts.windowMs) {
      this.failures.delete(key);
      this.failures.set(key, { count: 1, windowStart: now });
      const max = this.opts.maxAddresses ?? 10_000;
      while (this.failures.size > max) this.failures.delete(this.failures.keys().next().value!);
      return;
    }
    entry.count += 1;
  }

  get size(): number {
    return this.failures.size;
  }
}
