import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { serve } from "@hono/node-server";
import { createNodeWebSocket } from "@hono/node-ws";
import type { Hono } from "hono";
import type { WebSocket as WsSocket } from "ws";
import { CloseCode } from "../protocol/close-codes.ts";
import type { RuntimeAdapter, SocketHandler } from "./types.ts";

/**
 * V8 grows its young generation (×2 at a time, up to 16 MiB a half) as long-lived objects
 * pass through it, and keeps it: with 1,000 idle clients that was 48 KiB of RSS per
 * connection against 19 with it left at its starting size (the bare `ws` echo: 12). A
 * daemon holding idle sockets wants the small heap. `--max-semi-space-size` set here is
 * ignored (the heap is configured by then); the growth factor is read at each resize. An
 * operator's own semi-space flags (command line or NODE_OPTIONS) win.
 */
function smallYoungGeneration(): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((a) => a.includes("semi-space"));
  if (!given) setFlagsFromString("--semi-space-growth-factor=1");
}

/** The socket that ws hands over, bound straight to the gateway's handler. */
function bind(ws: WsSocket, handler: SocketHandler): void {
  let closed = false;
  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    handler.onClose(code, reason);
  };
  handler.onOpen({
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    bufferedAmount: () => ws.bufferedAmount,
  });
  ws.on("message", (data, isBinary) => handler.onMessage(isBinary ? data : data.toString()));
  ws.on("close", (code, reason) => close(code, reason.toString()));
  ws.on("error", () => close(CloseCode.ABNORMAL_CLOSURE, "socket error"));
}

/**
 * Node: @hono/node-server for HTTP, and @hono/node-ws's `ws` server for WebSockets. The
 * upgrade request still goes through the hono app (its routes decide: origin, auth,
 * shutdown), but the accepted socket is bound to the gateway directly. @hono/node-ws's
 * own glue kept the request's hono Context, two URLs and the IncomingMessage alive for the
 * life of every socket (a heap snapshot at 1,000 clients: ≈3 KiB each) and made a
 * MessageEvent per frame.
 */
export function createNodeAdapter(app: Hono): RuntimeAdapter {
  smallYoungGeneration();
  const { wss } = createNodeWebSocket({ app });
  /** Upgrades a route accepted, until ws takes the socket over (weak: a plain GET that asked to upgrade leaves nothing). */
  const accepted = new WeakMap<IncomingMessage, SocketHandler>();

  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    socket.on("error", () => {}); // a reset while the route runs must not crash the process; ws adds its own
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers)) if (value) headers.append(key, Array.isArray(value) ? value[0]! : value);
    let res: Response;
    try {
      res = await app.request(new URL(req.url ?? "/", "http://localhost"), { headers }, { incoming: req, outgoing: undefined });
    } catch {
      res = new Response(null, { status: 500 });
    }
    const handler = accepted.get(req);
    accepted.delete(req);
    if (socket.destroyed) return;
    if (!handler) {
      // The route's refusal, body included, as Bun and Deno send it.
      const body = Buffer.from(await res.text().catch(() => ""));
      const type = res.headers.get("content-type");
      socket.write(`HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ""}\r\nConnection: close\r\n${type ? `Content-Type: ${type}\r\n` : ""}Content-Length: ${body.length}\r\n\r\n`);
      socket.end(body);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bind(ws, handler));
  };

  return {
    name: "node",
    upgrade(c, handler) {
      const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
      if (!incoming) return new Response("WebSocket upgrade failed\n", { status: 400 });
      accepted.set(incoming, handler);
      // Not sent: the upgrade listener above answers the socket itself.
      return new Response(null);
    },
    remoteAddress: (c) => (c.env as { incoming?: IncomingMessage }).incoming?.socket.remoteAddress ?? "unknown",
    listen({ hostname, port, maxPayload }) {
      // ws reads this per upgrade and closes oversize frames with 1009.
      (wss.options as { maxPayload?: number }).maxPayload = maxPayload;
      return new Promise((resolve, reject) => {
        const server = serve({ fetch: app.fetch, hostname, port });
        server.once("error", reject);
        server.once("listening", () => {
          server.off("error", reject);
          server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => void onUpgrade(req, socket, head));
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
