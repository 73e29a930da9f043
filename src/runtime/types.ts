import type { Context, Hono } from "hono";
import type { UpgradeWebSocket } from "hono/ws";

export type RuntimeName = "bun" | "node" | "deno";

/** The one view of a server-side WebSocket the gateway needs, whatever the runtime. */
export interface WireSocket {
  send(data: string): void;
  close(code: number, reason: string): void;
  /** Bytes queued by the runtime and not yet written to the network. */
  bufferedAmount(): number;
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
  readonly upgradeWebSocket: UpgradeWebSocket;
  /** Wrap the raw socket hono hands to `onOpen`. */
  wrap(raw: unknown): WireSocket;
  remoteAddress(c: Context): string;
  listen(opts: ListenOptions): Promise<Listening>;
}

export type AdapterFactory = (app: Hono) => RuntimeAdapter;
