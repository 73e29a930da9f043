import type { Context, Hono } from "hono";
import { isLoopback, isLoopbackHostHeader } from "../core/net.ts";
import { secretEquals } from "../core/secret.ts";
import type { Registry } from "prom-client";

export interface MetricsRouteOptions {
  /** Built on the first scrape: a gateway nobody scrapes pays nothing for it (not even the import). */
  registry(): Promise<Registry>;
  /** Read per request: a reload that rotates the token applies at once. */
  token(): string | undefined;
  remoteAddress(c: Context): string;
  /** The gateway's auth limiter: a wrong Bearer is a failed token check like a wrong `hello`. */
  limiter: { retryAfter(remote: string): number; fail(remote: string): void };
}

/**
 * `GET /metrics` on the gateway's port, behind the same door as the socket: with a token,
 * `Authorization: Bearer <token>` (401 otherwise, counted by the same limiter as a wrong
 * `hello`: 429 past its limit, nothing compared); without one, loopback callers that
 * address it by a loopback name only (403 otherwise).
 */
export function mountMetrics(app: Hono, opts: MetricsRouteOptions): void {
  app.get("/metrics", async (c) => {
    const token = opts.token();
    if (token !== undefined) {
      const remote = opts.remoteAddress(c);
      const wait = opts.limiter.retryAfter(remote);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        c.header("Retry-After", String(seconds));
        return c.text(`too many failed token checks from ${remote}'s network: retry in ${seconds} s\n`, 429);
      }
      const header = c.req.header("authorization") ?? "";
      const presented = /^Bearer\s+(.+)$/i.exec(header)?.[1];
      if (!secretEquals(presented, token)) {
        opts.limiter.fail(remote);
        c.header("WWW-Authenticate", 'Bearer realm="clawdis"');
        return c.text("unauthorized: send Authorization: Bearer <gateway token>\n", 401);
      }
    } else if (!isLoopback(opts.remoteAddress(c))) {
      return c.text("forbidden: without gateway.token, /metrics answers on loopback only\n", 403);
    } else if (!isLoopbackHostHeader(c.req.header("host") ?? new URL(c.req.url).host)) {
      // A loopback caller can still be another site's page that rebound its DNS name to 127.0.0.1
      // (a browser always sends Host; without one, the URL the runtime built is the same test).
      return c.text("forbidden: without gateway.token, /metrics answers to Host 127.0.0.1 / localhost / [::1] only\n", 403);
    }
    const registry = await opts.registry();
    const body = await registry.metrics();
    return c.body(body, 200, { "Content-Type": registry.contentType });
  });
}
