import { Hono } from "hono";
import { intern } from "../core/intern.ts";
import type { DecideUpgrade, RuntimeAdapter, SocketHandler } from "../runtime/types.ts";

export type { SocketHandler } from "../runtime/types.ts";

export interface GatewayAppOptions {
  /**
   * Browser Origins allowed to open the socket; requests without an Origin are not browsers.
   * Read per browser upgrade, so a config reload changes the list.
   */
  allowedOrigins: () => readonly string[];
  /** Called per upgrade; returns null to refuse (e.g. shutting down). */
  accept(remote: string, origin: string | undefined): SocketHandler | null;
  onRefused?(remote: string, origin: string): void;
}

/**
 * The gateway's HTTP surface: one WebSocket endpoint at `/`. A browser Origin not in the
 * allow-list is refused before the upgrade (403), so a web page can never drive the gateway.
 */
export function mountGateway(app: Hono, adapter: RuntimeAdapter, opts: GatewayAppOptions): Hono {
  // The Set is rebuilt only when a reload hands over a new list.
  let list = opts.allowedOrigins();
  let allowed = new Set(list);
  const decide: DecideUpgrade = ({ upgrade, origin, remote: peer }) => {
    if (upgrade?.toLowerCase() !== "websocket") return { status: 426, text: "clawdis gateway: connect with a WebSocket client (see README, Protocol)\n" };
    const remote = intern(peer);
    if (origin !== undefined && opts.allowedOrigins() !== list) allowed = new Set((list = opts.allowedOrigins()));
    if (origin !== undefined && !allowed.has(origin)) {
      opts.onRefused?.(remote, origin);
      return { status: 403, text: `origin ${origin} is not allowed: add it to gateway.allowedOrigins\n` };
    }
    const handler = opts.accept(remote, origin);
    return handler ? { handler } : { status: 503, text: "gateway is shutting down\n" };
  };
  app.get("/", (c) => {
    const d = decide({ upgrade: c.req.header("upgrade"), origin: c.req.header("origin"), remote: adapter.remoteAddress(c) });
    return "handler" in d ? adapter.upgrade(c, d.handler) : c.text(d.text, d.status);
  });
  adapter.directUpgrades?.(decide);
  return app;
}
