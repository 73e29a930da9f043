import { isLoopback } from "./net.ts";
import { memoByString } from "./intern.ts";

export interface AuthLimitOptions {
  /** Failed attempts allowed per network (see networkKey) within `windowMs`. */
  maxFailures: number;
  windowMs: number;
  /**
   * Failed attempts allowed across every network within `windowMs` before every remote
   * network waits too (default 10 × maxFailures): many /24s or /64s do not multiply the guesses.
   */
  globalFailures?: number;
  /** Networks tracked at once; the oldest are forgotten first. */
  maxAddresses?: number;
  now?: () => number;
}

/** The key every loopback address shares. */
const LOOPBACK = "loopback";

/**
 * The network a remote address is counted under: all of loopback (127/8, ::1) is one, an
 * IPv4 address counts for its /24 and an IPv6 one for its /64 — the blocks one host or one
 * local account can hop between at will (issue 20: 127.0.0.2 is the same guesser as 127.0.0.1).
 */
export const networkKey = memoByString(networkKeyOf);

function networkKeyOf(remote: string): string {
  let h = remote.replace(/^\[|\]$/g, "").toLowerCase();
  const zone = h.indexOf("%");
  if (zone >= 0) h = h.slice(0, zone);
  h = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(h)?.[1] ?? h;
  if (isLoopback(h)) return LOOPBACK;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(h);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  return h.includes(":") ? `${ipv6Prefix64(h)}::/64` : h;
}

/** The first four groups of an IPv6 address, "::" expanded (a trailing dotted quad is two groups). */
function ipv6Prefix64(h: string): string {
  const [head = "", tail] = h.split("::");
  const parts = (s: string) => (s === "" ? [] : s.split(":"));
  const width = (groups: string[]) => groups.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const front = parts(head);
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - width(front) - width(parts(tail)))).fill("0"), ...parts(tail)];
  return groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(":");
}

interface Window {
  count: number;
  windowStart: number;
}

/**
 * Failed token checks (a `hello`, a `/metrics` Bearer, a WebChat sign-in) per network, in
 * a fixed window, plus one budget across all networks. Everyone's failures count, loopback
 * clients without a browser Origin too (another local account is who this is for); a right
 * token is never slowed while its network is under the limit. Past the limit nothing is
 * compared. A remote flood that spends the global budget does not lock out loopback, which
 * keeps its own budget only.
 */
export class AuthLimiter {
  private readonly failures = new Map<string, Window>();
  private global: Window = { count: 0, windowStart: Number.NEGATIVE_INFINITY };
  private readonly now: () => number;

  constructor(private readonly opts: AuthLimitOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** A config reload changed `gateway.authFailuresPerMinute`. */
  setMaxFailures(maxFailures: number): void {
    this.opts.maxFailures = maxFailures;
  }

  private get globalMax(): number {
    return this.opts.globalFailures ?? this.opts.maxFailures * 10;
  }

  /** ms until a window holding `max` failures reopens, 0 when it is open (or over). */
  private wait(w: Window | undefined, max: number, now: number): number {
    if (!w) return 0;
    const elapsed = now - w.windowStart;
    if (elapsed >= this.opts.windowMs) return 0;
    return w.count >= max ? this.opts.windowMs - elapsed : 0;
  }

  /**
   * ms until this address's network may try again, or 0 when it may try now. `_origin` is
   * no longer an exemption (issue 20 §5); it stays in the signature for existing callers.
   */
  retryAfter(remote: string, _origin?: string): number {
    const now = this.now();
    const key = networkKey(remote);
    const entry = this.failures.get(key);
    if (entry && now - entry.windowStart >= this.opts.windowMs) this.failures.delete(key);
    const own = this.wait(entry, this.opts.maxFailures, now);
    return key === LOOPBACK ? own : Math.max(own, this.wait(this.global, this.globalMax, now));
  }

  /** Count one failed token check from `remote` (its network, and the global budget). */
  fail(remote: string, _origin?: string): void {
    const now = this.now();
    if (now - this.global.windowStart >= this.opts.windowMs) this.global = { count: 0, windowStart: now };
    this.global.count += 1;
    const key = networkKey(remote);
    const entry = this.failures.get(key);
    if (entry && now - entry.windowStart < this.opts.windowMs) {
      entry.count += 1;
      return;
    }
    this.failures.delete(key);
    this.failures.set(key, { count: 1, windowStart: now });
    const max = this.opts.maxAddresses ?? 10_000;
    while (this.failures.size > max) this.failures.delete(this.failures.keys().next().value!);
  }

  get size(): number {
    return this.failures.size;
  }
}
