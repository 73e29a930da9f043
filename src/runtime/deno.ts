import type { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { honoUpgrade } from "./hono-upgrade.ts";
import type { RuntimeAdapter } from "./types.ts";

interface DenoServer {
  addr: { port: number };
  shutdown(): Promise<void>;
}
interface DenoNs {
  serve(
    opts: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (req: Request, info: unknown) => Response | Promise<Response>,
  ): DenoServer;
}

/** Deno: `Deno.serve` + hono/deno. Deno has no frame-size option; the connection checks maxPayload. */
export function createDenoAdapter(app: Hono): RuntimeAdapter {
  const Deno = (globalThis as unknown as { Deno: DenoNs }).Deno;
  return {
    name: "deno",
    upgrade: honoUpgrade(upgradeWebSocket),
    remoteAddress: (c) => {
      const addr = (c.env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr;
      return addr?.hostname ?? "unknown";
    },
    listen({ hostname, port }) {
      return new Promise((resolve, reject) => {
        try {
          const server = Deno.serve({ hostname, port, onListen: () => {} }, (req, info) => app.fetch(req, info));
          resolve({ port: server.addr.port, close: () => server.shutdown() });
        } catch (err) {
          reject(err);
        }
      });
    },
  };
}
