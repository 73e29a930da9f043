import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createNodeWebSocket } from "@hono/node-ws";
import type { Hono } from "hono";
import { honoUpgrade } from "./hono-upgrade.ts";
import type { RuntimeAdapter } from "./types.ts";

/** Node: @hono/node-server + @hono/node-ws (the `ws` package underneath). */
export function createNodeAdapter(app: Hono): RuntimeAdapter {
  const { injectWebSocket, upgradeWebSocket, wss } = createNodeWebSocket({ app });
  return {
    name: "node",
    upgrade: honoUpgrade(upgradeWebSocket),
    remoteAddress: (c) => (c.env as { incoming?: IncomingMessage }).incoming?.socket.remoteAddress ?? "unknown",
    listen({ hostname, port, maxPayload }) {
      // ws reads this per upgrade and closes oversize frames with 1009.
      (wss.options as { maxPayload?: number }).maxPayload = maxPayload;
      return new Promise((resolve, reject) => {
        const server = serve({ fetch: app.fetch, hostname, port });
        server.once("error", reject);
        server.once("listening", () => {
          server.off("error", reject);
          injectWebSocket(server);
          resolve({
            port: (server.address() as AddressInfo).port,
            close: () =>
              new Promise<void>((done) => {
                for (const client of wss.clients) client.terminate();
                server.close(() => done());
                (server as { closeAllConnections?: () => void }).closeAllConnections?.();
              }),
          });
        });
      });
    },
  };
}
