import { createHash, createHmac, randomBytes } from "node:crypto";
import { AuthLimiter } from "../core/auth-limit.ts";
import { secretEquals } from "../core/secret.ts";
import { keyFile } from "./session-key.ts";

export const SESSION_COOKIE = "clawdis_webchat";

/**
 * The cookie name for the WebChat on `port`: browsers send a host's cookies to every
 * port, so two WebChats on one host (beside the gateway and a `clawdis webchat` for
 * another) would otherwise overwrite each other's sign-in.
 */
export const sessionCookieName = (port: number) => `${SESSION_COOKIE}_${port}`;

/** A new sign-in: the cookie's value, and the tab secret the page keeps in sessionStorage. */
export interface SignIn {
  cookie: string;
  secret: string;
}

/** A signed-in browser: the id its sockets are filed under, and when the sign-in ends. */
export interface Session {
  id: string;
  expiresAt: number;
}

export interface WebAuthOptions {
  /** The gateway token: the secret a person types, and part of the cookie's MAC key. */
  token: string;
  /** The signing key's file (survives restarts, mode 0600); a key in memory only without it. */
  keyFile?: string;
  /** How long a sign-in lasts (default 7 days). */
  ttlMs?: number;
  /** How long a one-time sign-in code stays usable (default 5 minutes). */
  codeTtlMs?: number;
  /** Wrong tokens per minute from one network (loopback is one) before its token sign-ins are refused for a while (default 10). */
  failuresPerMinute?: number;
}

/** One-time codes waiting to be used at once; the oldest go first. */
const MAX_CODES = 32;
/** Networks with recent failed sign-ins remembered at once; the oldest go first. */
const MAX_FAILING_NETWORKS = 1024;
/** Signed-out sessions remembered (until their expiry) so a copied cookie stays dead. */
const MAX_REVOKED = 4096;
/** setTimeout's ceiling; a longer session is re-checked when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const sha256 = (s: string) => createHash("sha256").update(s).digest("base64url");

/**
 * WebChat sign-in when a gateway token is set: whoever opens the page types the token once
 * (or follows a one-time link) and gets an HttpOnly session cookie. The cookie is signed
 * (HMAC-SHA256), not looked up, so it survives a restart; the MAC key is derived from a
 * random key in the state dir AND the token, so a new token ends every session. The token
 * itself never leaves the backend except in the gateway's `hello`.
 *
 * The cookie alone proves nothing (issue 20 §2: every port of the host receives it): each
 * request also presents the session's tab secret, HMAC(MAC key, id), which the sign-in
 * answer hands to the page alone (see tab-secret.ts). It is derived, not stored, so it
 * survives a restart exactly as long as the cookie does.
 */
export class WebAuth {
  private readonly ttlMs: number;
  private readonly codeTtlMs: number;
  /** Wrong tokens, counted by network with a global budget (the gateway's own limiter, see core/auth-limit). */
  private readonly limiter: AuthLimiter;
  private macKey: Buffer;
  private token: string;
  /** sha256(code) → expiry: the plain code is never kept. */
  private readonly codes = new Map<string, number>();
  private readonly revoked = new Map<string, number>();
  /** Live sockets by session id, each with its close function. */
  private readonly sockets = new Map<string, Set<() => void>>();
  /** Set once the port is known (see sessionCookieName). */
  cookieName = SESSION_COOKIE;

  constructor(private readonly opts: WebAuthOptions) {
    this.ttlMs = opts.ttlMs ?? 7 * 24 * 3_600_000;
    this.codeTtlMs = opts.codeTtlMs ?? 5 * 60_000;
    this.limiter = new AuthLimiter({ maxFailures: opts.failuresPerMinute ?? 10, windowMs: 60_000, maxAddresses: MAX_FAILING_NETWORKS });
    this.token = opts.token;
    this.macKey = this.deriveKey(opts.keyFile ? keyFile.load(opts.keyFile, opts.token) : randomBytes(32));
  }

  private deriveKey(stored: Buffer): Buffer {
    return createHmac("sha256", stored).update("clawdis webchat session\0").update(this.token).digest();
  }

  /**
   * Too many wrong tokens from `remote`'s network in the last minute (or from everywhere):
   * refuse its token sign-ins for now. One-time codes are never limited (256 random bits
   * are not guessed), so the owner can always sign in with a fresh link (`clawdis webchat
   * --link`) even when another local process tripped the limit for all of loopback.
   */
  limited(remote: string): boolean {
    return this.limiter.retryAfter(remote) > 0;
  }

  private fail(remote: string): null {
    this.limiter.fail(remote);
    return null;
  }

  /** A sign-in for the right token, null otherwise (a failure counted against `remote`'s network). */
  login(presented: string, remote: string): SignIn | null {
    return secretEquals(presented, this.token) ? this.issue() : this.fail(remote);
  }

  /** A fresh one-time sign-in code (≥ 256 bits, single use, short-lived). */
  issueCode(): { code: string; expiresAt: number } {
    const code = randomBytes(32).toString("base64url");
    const expiresAt = Date.now() + this.codeTtlMs;
    this.codes.set(sha256(code), expiresAt);
    while (this.codes.size > MAX_CODES) this.codes.delete(this.codes.keys().next().value!);
    return { code, expiresAt };
  }

  /** Trade a one-time code for a sign-in; a used, expired or unknown code gets null. */
  redeem(code: string): SignIn | null {
    const key = sha256(code);
    const expires = this.codes.get(key);
    this.codes.delete(key);
    return expires !== undefined && expires >= Date.now() ? this.issue() : null;
  }

  private issue(): SignIn {
    const id = randomBytes(16).toString("base64url");
    const exp = Date.now() + this.ttlMs;
    const body = `v1.${id}.${exp}`;
    return { cookie: `${body}.${this.mac(body)}`, secret: this.mac(`tab\0${id}`) };
  }

  private mac(body: string): string {
    return createHmac("sha256", this.macKey).update(body).digest("base64url");
  }

  /** The live session this request's cookie AND its tab secret prove together, or null. */
  check(cookieHeader: string | undefined, secret: string | undefined): Session | null {
    const session = this.checkCookie(cookieHeader);
    return session && secretEquals(secret, this.mac(`tab\0${session.id}`)) ? session : null;
  }

  private checkCookie(cookieHeader: string | undefined): Session | null {
    const value = readCookie(cookieHeader, this.cookieName);
    const m = value ? /^(v1\.([\w-]{22})\.(\d{13}))\.([\w-]{43})$/.exec(value) : null;
    if (!m) return null;
    const [, body, id, exp, mac] = m as unknown as [string, string, string, string, string];
    if (!secretEquals(mac, this.mac(body))) return null;
    const expiresAt = Number(exp);
    if (expiresAt < Date.now() || this.revoked.has(id)) return null;
    return { id, expiresAt };
  }

  /** Sign out the request's session (cookie and tab secret): its cookie stops working and its sockets close. False when they prove none. */
  logout(cookieHeader: string | undefined, secret: string | undefined): boolean {
    const session = this.check(cookieHeader, secret);
    if (!session) return false;
    const now = Date.now();
    for (const [id, exp] of this.revoked) if (exp < now) this.revoked.delete(id);
    this.revoked.set(session.id, session.expiresAt);
    while (this.revoked.size > MAX_REVOKED) this.revoked.delete(this.revoked.keys().next().value!);
    this.closeSockets(session.id);
    return true;
  }

  /**
   * End every session and every socket now: a new signing key (written to the key file,
   * so old cookies stay dead after a restart) and no outstanding codes. For token rotation:
   * with `newToken`, sign-in takes that token from now on.
   */
  revokeAll(newToken?: string): void {
    if (newToken) this.token = newToken;
    const fresh = randomBytes(32);
    if (this.opts.keyFile) keyFile.replace(this.opts.keyFile, fresh, this.token);
    this.macKey = this.deriveKey(fresh);
    this.codes.clear();
    this.revoked.clear();
    for (const id of [...this.sockets.keys()]) this.closeSockets(id);
  }

  /** File a socket under its session: `close` runs when the session ends or expires. Returns the untrack function. */
  track(session: Session, close: () => void): () => void {
    let set = this.sockets.get(session.id);
    if (!set) this.sockets.set(session.id, (set = new Set()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const end = () => {
      untrack();
      close();
    };
    const arm = () => {
      const left = session.expiresAt - Date.now();
      if (left <= 0) return end();
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      (timer as { unref?: () => void }).unref?.();
    };
    const untrack = () => {
      clearTimeout(timer);
      set.delete(end);
      if (set.size === 0 && this.sockets.get(session.id) === set) this.sockets.delete(session.id);
    };
    set.add(end);
    arm();
    return untrack;
  }

  private closeSockets(id: string): void {
    for (const end of [...(this.sockets.get(id) ?? [])]) end();
  }

  /** The Set-Cookie header for a session cookie value. */
  cookie(value: string): string {
    return `${this.cookieName}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.ttlMs / 1000)}`;
  }

  /** The Set-Cookie header that drops the session cookie. */
  get clearCookie(): string {
    return `${this.cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
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

