import type { Hono } from "hono";
import { getConnInfo } from "hono/bun";
import type { DecideUpgrade, RuntimeAdapter, SocketHandler, WireSocket } from "./types.ts";

interface BunSocket {
  /** The gateway's handler itself (no wrapper object per socket). */
  data: SocketHandler;
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}
interface BunServer {
  upgrade(req: Request, opts: { data: SocketHandler }): boolean;
  requestIP(req: Request): { address: string } | null;
}

/** `http://host:port/` or `…/?query`: the gateway's socket path, read without parsing a URL. */
function atRoot(url: string): boolean {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  return path >= 0 && (path === url.length - 1 || url.charCodeAt(path + 1) === 63 /* ? */);
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
  let direct: DecideUpgrade | null = null;
  // A plain upgrade at `/` skips hono (no routing, no Context); anything else goes through the app.
  const fetch = (req: Request, server: BunServer): Response | undefined | Promise<Response> => {
    const h = req.headers;
    if (direct === null || req.method !== "GET" || !atRoot(req.url) || h.has("transfer-encoding") || (h.get("content-length") ?? "0") !== "0") {
      return app.fetch(req, server);
    }
    const d = direct({ upgrade: h.get("upgrade") ?? undefined, origin: h.get("origin") ?? undefined, remote: server.requestIP(req)?.address ?? "unknown" });
    if (!("handler" in d)) return new Response(d.text, { status: d.status, headers: { "content-type": "text/plain; charset=UTF-8" } });
    return server.upgrade(req, { data: d.handler }) ? undefined : new Response("WebSocket upgrade failed\n", { status: 400 });
  };
  return {
    directUpgrades(decide) {
      direct = decide;
    },
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
        fetch: fetch as unknown as (req: Request) => Response,
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
