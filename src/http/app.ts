import { Hono } from "hono";
import type { RuntimeAdapter, WireSocket } from "../runtime/types.ts";

/** What the HTTP edge hands each accepted WebSocket to. */
export interface SocketHandler {
  onOpen(sock: WireSocket): void;
  onMessage(data: unknown): void;
  onClose(code: number, reason: string): void;
}

export interface GatewayAppOptions {
  /** Browser Origins allowed to open the socket; requests without an Origin are not browsers. */
  allowedOrigins: readonly string[];
  /** Called per upgrade; returns null to refuse (e.g. shutting down). */
  accept(remote: string, origin: string | undefined): SocketHandler | null;
  onRefused?(remote: string, origin: string): void;
}

/**
 * The gateway's HTTP surface: one WebSocket endpoint at `/`. A browser Origin not in the
 * allow-list is refused before the upgrade (403), so a web page can never drive the gateway.
 */
export function mountGateway(app: Hono, adapter: RuntimeAdapter, opts: GatewayAppOptions): Hono {
  const allowed = new Set(opts.allowedOrigins);
  app.get(
    "/",
    async (c, next) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
        return c.text("clawdis gateway: connect with a WebSocket client (see README, Protocol)\n", 426);
      }
      const origin = c.req.header("origin");
      if (origin !== undefined && !allowed.has(origin)) {
        opts.onRefused?.(adapter.remoteAddress(c), origin);
        return c.text(`origin ${origin} is not allowed: add it to gateway.allowedOrigins\n`, 403);
      }
      await next();
    },
    adapter.upgradeWebSocket((c) => {
      const handler = opts.accept(adapter.remoteAddress(c), c.req.header("origin"));
      return {
        onOpen(_evt, ws) {
          if (!handler) return ws.close(1013, "gateway is shutting down");
          handler.onOpen(adapter.wrap(ws.raw));
        },
        onMessage(evt) {
          handler?.onMessage(evt.data);
        },
        onClose(evt) {
          handler?.onClose(evt.code, evt.reason);
        },
        onError() {
          handler?.onClose(1006, "socket error");
        },
      };
    }),
  );
  return app;
}
