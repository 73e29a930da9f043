import type { Hono } from "hono";
import { getConnInfo } from "hono/bun";
import type { RuntimeAdapter, SocketHandler, WireSocket } from "./types.ts";

interface BunSocket {
  /** The gateway's handler itself (no wrapper object per socket). */
  data: SocketHandler;
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}
interface BunServer {
  upgrade(req: Request, opts: { data: SocketHandler }): boolean;
}

/**
 * Bun: `Bun.serve` with its own WebSocket handlers calling the gateway directly — no
 * per-frame event objects or URL parsing (hono's bun glue cost a third of a request).
 * Bun enforces maxPayload itself (1009).
 */
/** One object per socket (three closures and their scope cost ~250 B more per connection). */
class BunWire implements WireSocket {
  constructor(private readonly ws: BunSocket) {}
  send(data: string): void {
    this.ws.send(data);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }
}

export function createBunAdapter(app: Hono): RuntimeAdapter {
  return {
    name: "bun",
    upgrade(c, handler) {
      const server = c.env as BunServer;
      if (!server.upgrade(c.req.raw, { data: handler })) return new Response("WebSocket upgrade failed\n", { status: 400 });
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
            s.data.onOpen(new BunWire(s));
          },
          message(ws, message) {
            (ws as unknown as BunSocket).data.onMessage(message);
          },
          close(ws, code, reason) {
            (ws as unknown as BunSocket).data.onClose(code, reason);
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
