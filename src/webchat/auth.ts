import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "clawdis_webchat";

/** True for addresses only this host can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}

function sameSecret(presented: string, expected: string): boolean {
  // Hash first: equal lengths, so neither length nor content leaks through timing.
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Sign-in for a WebChat reachable from other machines: whoever opens the page types the
 * gateway token once and gets an HttpOnly session cookie. The backend never sends the
 * token anywhere but the gateway's `hello`. Sessions and failures are bounded.
 */
export class WebAuth {
  private readonly sessions = new Map<string, number>();
  private failures: number[] = [];

  constructor(
    private readonly token: string,
    private readonly opts = { maxSessions: 256, ttlMs: 7 * 24 * 3_600_000, failuresPerMinute: 10 },
  ) {}

  /** Too many wrong tokens in the last minute: refuse further tries for now. */
  get limited(): boolean {
    const since = Date.now() - 60_000;
    this.failures = this.failures.filter((t) => t > since);
    return this.failures.length >= this.opts.failuresPerMinute;
  }

  /** A new session id for the right token, null otherwise. */
  login(presented: string): string | null {
    if (!sameSecret(presented, this.token)) {
      this.failures.push(Date.now());
      if (this.failures.length > this.opts.failuresPerMinute * 2) this.failures.shift();
      return null;
    }
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(id, Date.now() + this.opts.ttlMs);
    // Oldest sign-ins go first when the table is full.
    while (this.sessions.size > this.opts.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    return id;
  }

  logout(cookieHeader: string | undefined): void {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (id) this.sessions.delete(id);
  }

  /** The request carries a live session cookie. */
  check(cookieHeader: string | undefined): boolean {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (!id) return false;
    const expires = this.sessions.get(id);
    if (expires === undefined) return false;
    if (expires < Date.now()) {
      this.sessions.delete(id);
      return false;
    }
    return true;
  }

  cookie(id: string): string {
    return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.opts.ttlMs / 1000)}`;
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
