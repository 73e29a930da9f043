import type { Context } from "hono";

export type RuntimeName = "bun" | "node" | "deno";

/** The one view of a server-side WebSocket the gateway needs, whatever the runtime. */
export interface WireSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued by the runtime and not yet written to the network. */
  bufferedAmount(): number;
}

/** What an accepted WebSocket's events go to. */
export interface SocketHandler {
  onOpen(sock: WireSocket): void;
  /** A string for text frames; anything else is binary. */
  onMessage(data: unknown): void;
  onClose(code: number, reason: string): void;
}

export interface ListenOptions {
  hostname: string;
  port: number;
  /** Frames larger than this are refused by the runtime where it can (close 1009). */
  maxPayload: number;
}

export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** A runtime adapter: serve a hono app with WebSocket upgrades. The only place that names a runtime. */
export interface RuntimeAdapter {
  readonly name: RuntimeName;
  /** Upgrade this request to a WebSocket whose events go to `handler` (call from a route). */
  upgrade(c: Context, handler: SocketHandler): Response | Promise<Response>;
  remoteAddress(c: Context): string;
  listen(opts: ListenOptions): Promise<Listening>;
}
