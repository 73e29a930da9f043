import type { Hono } from "hono";
import { getConnInfo } from "hono/bun";
import type { RuntimeAdapter, SocketHandler, WireSocket } from "./types.ts";

interface BunSocket {
  data: { handler: SocketHandler; sock?: WireSocket };
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}
interface BunServer {
  upgrade(req: Request, opts: { data: BunSocket["data"] }): boolean;
}

/**
 * Bun: `Bun.serve` with its own WebSocket handlers calling the gateway directly — no
 * per-frame event objects or URL parsing (hono's bun glue cost a third of a request).
 * Bun enforces maxPayload itself (1009).
 */
export function createBunAdapter(app: Hono): RuntimeAdapter {
  const wrap = (ws: BunSocket): WireSocket => ({
    send: (data) => void ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    bufferedAmount: () => ws.getBufferedAmount(),
  });
  return {
    name: "bun",
    upgrade(c, handler) {
      const server = c.env as BunServer;
      if (!server.upgrade(c.req.raw, { data: { handler } })) return new Response("WebSocket upgrade failed\n", { status: 400 });
      // Bun answers the upgrade itself; this response is ignored.
      return new Response(null);
    },
    remoteAddress: (c) => getConnInfo(c).remote.address ?? "unknown",
    async listen({ hostname, port, maxPayload }) {
      const server = Bun.serve({
        hostname,
        port,
        fetch: app.fetch,
        websocket: {
          maxPayloadLength: maxPayload,
          backpressureLimit: 64 * 1024 * 1024,
          open(ws) {
            const s = ws as unknown as BunSocket;
            s.data.sock = wrap(s);
            s.data.handler.onOpen(s.data.sock);
          },
          message(ws, message) {
            (ws as unknown as BunSocket).data.handler.onMessage(message);
          },
          close(ws, code, reason) {
            (ws as unknown as BunSocket).data.handler.onClose(code, reason);
          },
        },
      });
      return {
        port: server.port ?? port,
        close: async () => {
          await server.stop(true);
        },
      };
    },
  };
}
