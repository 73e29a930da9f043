import type { Hono } from "hono";
import { upgradeWebSocket } from "hono/deno";
import { honoUpgrade } from "./hono-upgrade.ts";
import type { RuntimeAdapter } from "./types.ts";

interface DenoServer {
  addr: { port: number };
  shutdown(): Promise<void>;
}
interface DenoNs {
  env: { get(key: string): string | undefined; set(key: string, value: string): void };
  serve(
    opts: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (req: Request, info: unknown) => Response | Promise<Response>,
  ): DenoServer;
}

/**
 * Deno writes a WebSocket frame by copying it into a per-socket buffer that keeps the
 * capacity of the largest frame it ever sent, for the life of the socket — and every
 * hello-ok carries the presence list (≈100 KB at 1,000 clients), so each idle socket held
 * ≈100 KB it never needed again (measured: an echo that sends one 100 KB frame per
 * connection grows 129 KiB/conn against 31 without). Deno's `DENO_USE_WRITEV` switch,
 * read when the first WebSocket is made, writes frames over 1 KiB straight from the
 * payload instead (the same bytes on the wire). An operator's own setting wins; without
 * env permission the default stays.
 */
function writeFramesInPlace(Deno: DenoNs): void {
  try {
    if (Deno.env.get("DENO_USE_WRITEV") === undefined) Deno.env.set("DENO_USE_WRITEV", "1");
  } catch {
    // no --allow-env: Deno's default buffered writes
  }
}

/** Deno: `Deno.serve` + hono/deno. Deno has no frame-size option; the connection checks maxPayload. */
export function createDenoAdapter(app: Hono): RuntimeAdapter {
  const Deno = (globalThis as unknown as { Deno: DenoNs }).Deno;
  writeFramesInPlace(Deno);
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
