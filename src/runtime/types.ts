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

/** What an upgrade request at `/` gets: its socket's handler, or a refusal (status and text). */
export type UpgradeDecision = { handler: SocketHandler } | { status: 403 | 426 | 503; text: string };
/** The gateway's decision on an upgrade request at `/`, from its three inputs. */
export type DecideUpgrade = (req: { upgrade: string | undefined; origin: string | undefined; remote: string }) => UpgradeDecision;

/** A runtime adapter: serve a hono app with WebSocket upgrades. The only place that names a runtime. */
export interface RuntimeAdapter {
  readonly name: RuntimeName;
  /** Upgrade this request to a WebSocket whose events go to `handler` (call from a route). */
  upgrade(c: Context, handler: SocketHandler): Response | Promise<Response>;
  remoteAddress(c: Context): string;
  listen(opts: ListenOptions): Promise<Listening>;
  /**
   * Where the runtime can, a plain upgrade request at `/` (GET, no body) is decided here
   * without going through the hono app (its routing was a quarter of a handshake's JS, Bun).
   */
  directUpgrades?(decide: DecideUpgrade): void;
}
