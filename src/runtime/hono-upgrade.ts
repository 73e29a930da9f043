import type { Context } from "hono";
import type { UpgradeWebSocket } from "hono/ws";
import { CloseCode } from "../protocol/close-codes.ts";
import type { SocketHandler, WireSocket } from "./types.ts";

/** A server socket with the standard WebSocket surface (Deno's). */
function wrap(raw: unknown): WireSocket {
  const ws = raw as WebSocket;
  return {
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
    bufferedAmount: () => ws.bufferedAmount,
  };
}

/** For a runtime served through hono's WebSocket helper (Deno): its events → a SocketHandler. */
export function honoUpgrade(upgradeWebSocket: UpgradeWebSocket) {
  return async (c: Context, handler: SocketHandler): Promise<Response> => {
    let closed = false;
    const close = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      handler.onClose(code, reason);
    };
    const middleware = upgradeWebSocket(() => ({
      onOpen: (_evt, ws) => handler.onOpen(wrap(ws.raw)),
      onMessage: (evt) => handler.onMessage(evt.data),
      onClose: (evt) => close(evt.code, evt.reason),
      onError: () => close(CloseCode.ABNORMAL_CLOSURE, "socket error"),
    }));
    return (await middleware(c, async () => {})) ?? new Response(null, { status: 500 });
  };
}
