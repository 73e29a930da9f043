import type { Context, Hono } from "hono";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { ASSETS } from "./assets.generated.ts";
import { capBodies } from "../http/body-limit.ts";
import { isLoopbackHostHeader } from "../core/net.ts";
import { CloseCode } from "../protocol/index.ts";
import type { Session, WebAuth } from "./auth.ts";
import type { Relay, TabHandler } from "./relay.ts";
import { secretFromProtocols, TAB_SECRET_HEADER } from "./tab-secret.ts";

/**
 * Strict CSP: only this origin's script, style and sockets; no inline code, no plugins,
 * no framing. Trusted Types with no policy makes any `innerHTML = string` throw, so the
 * page can only build DOM from text nodes.
 */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy": CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
};

/** The sign-in's JSON ({token} or {code}); every other route reads no body. */
const LOGIN_BODY_BYTES = 4096;

export interface WebChatAppOptions {
  relay: Relay;
  /** Sign-in required (a gateway token is set); null without a token on loopback. */
  auth: WebAuth | null;
  /** Bound to loopback: answer only to loopback host names (defeats DNS rebinding). */
  loopbackOnly: boolean;
  onRefused?(why: string, detail: Record<string, unknown>): void;
}

/** The request's Origin is this very server (scheme aside: a TLS proxy may front it). */
function sameOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  const host = c.req.header("host");
  if (!origin || !host) return false;
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && u.host === host;
  } catch {
    return false;
  }
}

/** Mount the page, its assets, sign-in and the relay socket on `app`. */
export function mountWebChat(app: Hono, adapter: RuntimeAdapter, opts: WebChatAppOptions): Hono {
  const { relay, auth } = opts;

  app.use("*", async (c, next) => {
    if (opts.loopbackOnly && !isLoopbackHostHeader(c.req.header("host"))) {
      opts.onRefused?.("host", { host: c.req.header("host") });
      return c.text("WebChat answers to 127.0.0.1 / localhost only\n", 403, SECURITY_HEADERS);
    }
    await next();
    // An upgrade's 101 belongs to the runtime (Deno's headers are immutable).
    if (c.res.status === 101) return;
    try {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    } catch {}
  });

  // Before any route: no body is buffered past its route's limit, signed in or not (the 413 gets the headers above).
  app.use("*", capBodies((method, path) => (method === "POST" && path === "/api/login" ? LOGIN_BODY_BYTES : 0)));

  for (const [path, asset] of Object.entries(ASSETS)) {
    app.get(path, (c) => c.body(asset.body, 200, { "Content-Type": asset.type, "Cache-Control": "no-cache" }));
  }

  // A session is the cookie AND the tab secret (tab-secret.ts): the cookie alone reaches every port of the host.
  const signedIn = (c: Context, secret = c.req.header(TAB_SECRET_HEADER)) => (auth ? auth.check(c.req.header("cookie"), secret) : null);

  app.get("/api/session", (c) => {
    const authenticated = !auth || signedIn(c) !== null;
    return c.json({ auth: auth ? "token" : "none", authenticated }, authenticated ? 200 : 401, { "Cache-Control": "no-store" });
  });

  app.post("/api/login", async (c) => {
    if (!auth) return c.json({ ok: true }, 200);
    if (!sameOrigin(c)) return c.json({ error: "cross-origin sign-in refused" }, 403);
    // capBodies already held it to LOGIN_BODY_BYTES.
    const body = await c.req.text();
    let creds: { token?: unknown; code?: unknown };
    try {
      creds = JSON.parse(body) ?? {};
    } catch {
      return c.json({ error: "expected JSON {token} or {code}" }, 400);
    }
    const given = (x: unknown): x is string => typeof x === "string" && x.length > 0;
    // A one-time code from a sign-in link (it wins when both are sent), or the token typed into the form.
    const code = given(creds.code) ? creds.code : null;
    const token = given(creds.token) ? creds.token : null;
    if (code === null && token === null) return c.json({ error: "expected JSON {token} or {code}" }, 400);
    const remote = adapter.remoteAddress(c);
    // The failure limit guards the token only: a valid one-time code always gets through.
    if (code === null && auth.limited(remote)) {
      opts.onRefused?.("login-limited", { remote });
      return c.json({ error: "too many failed sign-ins from this network: wait a minute, or run `clawdis webchat --link` for a sign-in link" }, 429);
    }
    const signIn = code !== null ? auth.redeem(code) : auth.login(token!, remote);
    if (!signIn) {
      opts.onRefused?.("login", { with: code !== null ? "code" : "token" });
      const error =
        code !== null
          ? "this sign-in link was already used or has expired: sign in with the token, or run `clawdis webchat --link` for a new link"
          : "wrong token";
      return c.json({ error }, 401);
    }
    // The secret goes in the answer only: the page keeps it in sessionStorage, out of other ports' reach.
    return c.json({ ok: true, secret: signIn.secret }, 200, { "Set-Cookie": auth.cookie(signIn.cookie), "Cache-Control": "no-store" });
  });

  app.post("/api/logout", (c) => {
    if (!sameOrigin(c)) return c.json({ error: "cross-origin request refused" }, 403);
    if (!auth) return c.json({ ok: true }, 200);
    if (!auth.logout(c.req.header("cookie"), c.req.header(TAB_SECRET_HEADER))) return c.json({ error: "sign in first" }, 401);
    return c.json({ ok: true }, 200, { "Set-Cookie": auth.clearCookie });
  });

  app.get("/ws", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return c.text("WebChat relay: WebSocket only\n", 426);
    // Same-origin only: another site's page must not drive the gateway through us.
    if (!sameOrigin(c)) {
      opts.onRefused?.("origin", { origin: c.req.header("origin") ?? null });
      return c.text("cross-origin WebSocket refused\n", 403);
    }
    // Refused before the upgrade: no socket, so not one frame reaches the relay.
    const session: Session | null = signedIn(c, secretFromProtocols(c.req.header("sec-websocket-protocol")));
    if (auth && !session) {
      opts.onRefused?.("session", {});
      return c.text("sign in first\n", 401);
    }
    let tab: TabHandler | null = null;
    let untrack = () => {};
    return adapter.upgrade(c, {
      onOpen(sock) {
        tab = relay.attach(sock);
        // Signed out elsewhere, revoked or expired: the socket goes, the page shows the sign-in form.
        if (tab && auth && session) untrack = auth.track(session, () => sock.close(CloseCode.SESSION_ENDED, "session ended: sign in again"));
      },
      onMessage(data) {
        tab?.onMessage(data);
      },
      onClose() {
        untrack();
        tab?.onClose();
        tab = null;
      },
    });
  });

  app.notFound((c) => c.text("not found\n", 404));
  return app;
}
