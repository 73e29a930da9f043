import type { Hono } from "hono";
import { getConnInfo, upgradeWebSocket, websocket } from "hono/bun";
import type { RuntimeAdapter } from "./types.ts";

interface BunSocket {
  send(data: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}

/** Bun: `Bun.serve` with hono/bun's WebSocket handler; Bun enforces maxPayload itself (1009). */
export function createBunAdapter(app: Hono): RuntimeAdapter {
  return {
    name: "bun",
    upgradeWebSocket,
    wrap(raw) {
      const ws = raw as BunSocket;
      return {
        send: (data) => void ws.send(data),
        close: (code, reason) => ws.close(code, reason),
        bufferedAmount: () => ws.getBufferedAmount(),
      };
    },
    remoteAddress: (c) => getConnInfo(c).remote.address ?? "unknown",
    async listen({ hostname, port, maxPayload }) {
      const server = Bun.serve({
        hostname,
        port,
        fetch: app.fetch,
        websocket: { ...websocket, maxPayloadLength: maxPayload, backpressureLimit: 64 * 1024 * 1024 },
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
