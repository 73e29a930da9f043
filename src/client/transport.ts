import type { HelloError, HelloOk } from "../protocol/index.ts";
import type { Backoff } from "../core/backoff.ts";
import { GatewayClientError } from "./errors.ts";

export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

/** Close code the client uses when it gives up on a silent link (4xxx: application range). */
const DEAD_LINK_CLOSE = 4100;

export interface TransportOptions {
  url: string;
  /** Alternative WebSocket constructor (e.g. `ws` on Node 20). */
  WebSocket?: typeof WebSocket;
  connectTimeoutMs: number;
  reconnect: boolean;
  backoff: Backoff;
  /** The `hello` to send on each (re)connect. */
  hello(): unknown;
}

/** What the protocol layers above hear from the transport. */
export interface TransportHandlers {
  /** `hello-ok` arrived; the state is not open yet (take the snapshot now). */
  handshake(hello: HelloOk): void;
  /** The state is now open. */
  opened(hello: HelloOk): void;
  /** Any frame after `hello-ok`. */
  frame(frame: Record<string, unknown>): void;
  /** An open link dropped: whatever was pending on it failed with `err`. */
  dropped(err: GatewayClientError): void;
  state(state: ClientState, detail?: string): void;
}

/**
 * The socket half of the client: one standard WebSocket at a time, the handshake
 * exchange, the connect timeout, a watchdog for silent links, and reconnects with backoff.
 */
export class Transport {
  private ws: WebSocket | null = null;
  private _state: ClientState = "idle";
  private readonly stateWaiters = new Set<() => void>();
  private everOpened = false;
  private userClosed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;

  constructor(
    private readonly opts: TransportOptions,
    private readonly on: TransportHandlers,
  ) {}

  get state(): ClientState {
    return this._state;
  }

  /** The link is open and can take a frame now. */
  get writable(): boolean {
    return this.ws !== null && this.ws.readyState === 1 && this._state === "open";
  }

  /** `close()` was called (and no `connect()` since). */
  get closedByUser(): boolean {
    return this.userClosed;
  }

  /** Send a frame on the open link (check `writable` first). */
  send(frame: string): void {
    this.ws?.send(frame);
  }

  /** Open and complete the handshake; with `retry`, keep trying (backoff) until it works or `close()`. */
  async connect(opts: { retry?: boolean } = {}): Promise<HelloOk> {
    this.userClosed = false;
    for (;;) {
      try {
        return await this.open();
      } catch (err) {
        const e = err as GatewayClientError;
        if (!opts.retry || this.userClosed || (e.kind === "handshake" && e.detail.helloError?.reason !== "unavailable")) throw err;
        await new Promise((r) => setTimeout(r, this.opts.backoff.next()));
        if (this.userClosed) throw err;
      }
    }
  }

  /** Close for good: no reconnect. */
  close(): void {
    this.userClosed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopWatchdog();
    this.setState("closed");
    this.ws?.close(1000, "client closing");
  }

  /** Resolves once the state is open (again); rejects after `timeoutMs` or once closed. */
  waitOpen(timeoutMs: number): Promise<void> {
    if (this._state === "open") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.stateWaiters.delete(check);
        if (ok) resolve();
        else reject(new GatewayClientError("closed", `not reconnected within ${timeoutMs} ms`));
      };
      const check = () => {
        if (this._state === "open") done(true);
        else if (this._state === "closed") done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.stateWaiters.add(check);
      check();
    });
  }

  private setState(state: ClientState, detail?: string): void {
    if (this._state === state) return;
    this._state = state;
    this.on.state(state, detail);
    for (const check of [...this.stateWaiters]) check();
  }

  /** Stop listening to a socket this client is done with; a late frame on it changes nothing. */
  private abandon(ws: WebSocket): void {
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (this.ws === ws) this.ws = null;
    try {
      ws.close();
    } catch {}
  }

  private open(): Promise<HelloOk> {
    const WS = this.opts.WebSocket ?? globalThis.WebSocket;
    if (!WS) return Promise.reject(new GatewayClientError("connect", "no WebSocket implementation in this runtime"));
    this.setState(this.everOpened ? "reconnecting" : "connecting");
    const { url, connectTimeoutMs } = this.opts;
    return new Promise((resolve, reject) => {
      let settled = false;
      let opened = false;
      let ws: WebSocket | undefined;
      const fail = (err: GatewayClientError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // Given up on: a hello-ok arriving late on this socket must not open the client
        // (a retry may already be dialling a second one).
        if (ws) this.abandon(ws);
        reject(err);
      };
      const timer = setTimeout(() => fail(new GatewayClientError("timeout", `no hello-ok from ${url} within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      try {
        ws = new WS(url);
      } catch (err) {
        return fail(new GatewayClientError("connect", `cannot connect to ${url}: ${(err as Error).message}`));
      }
      const sock = ws;
      this.ws = sock;
      // `ws` (Node 20) throws on an error event nobody listens to; close follows anyway.
      sock.onerror = () => {};
      sock.onopen = () => {
        opened = true;
        sock.send(JSON.stringify(this.opts.hello()));
      };
      sock.onmessage = (evt) => {
        this.lastFrameAt = Date.now();
        let frame: Record<string, unknown>;
        try {
          frame = JSON.parse(String(evt.data));
        } catch {
          return;
        }
        if (settled) return this.on.frame(frame);
        if (frame.type === "hello-ok") {
          settled = true;
          clearTimeout(timer);
          this.onHelloOk(frame as unknown as HelloOk);
          resolve(frame as unknown as HelloOk);
        } else if (frame.type === "hello-error") {
          const he = frame as unknown as HelloError;
          fail(new GatewayClientError("handshake", `gateway refused the handshake: ${he.reason}: ${he.message}`, { helloError: he }));
        }
      };
      sock.onclose = (evt) => {
        if (this.ws === sock) this.ws = null;
        fail(
          new GatewayClientError(
            opened ? "handshake" : "connect",
            opened
              ? `connection closed during handshake (${evt.code}${evt.reason ? ` ${evt.reason}` : ""})`
              : `could not connect to ${url} (is the gateway running?)`,
            { closeCode: evt.code },
          ),
        );
        if (this._state === "open") this.onDrop(evt.code, evt.reason);
      };
    });
  }

  private onHelloOk(hello: HelloOk): void {
    this.everOpened = true;
    this.opts.backoff.reset();
    this.on.handshake(hello);
    this.setState("open");
    this.startWatchdog(hello.policy.tickIntervalMs);
    this.on.opened(hello);
  }

  /** The link dropped after a handshake: fail what was pending, then reconnect. */
  private onDrop(code: number, reason: string): void {
    this.stopWatchdog();
    this.on.dropped(new GatewayClientError("closed", `connection closed (${code}${reason ? ` ${reason}` : ""})`, { closeCode: code }));
    if (this.userClosed || !this.opts.reconnect) return this.setState("closed", reason);
    this.setState("reconnecting", reason);
    const schedule = () => {
      if (this.userClosed) return;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.open().catch((err: GatewayClientError) => {
          // A refused handshake will not fix itself: stop and say why.
          if (err.refused) return this.setState("closed", err.message);
          schedule();
        });
      }, this.opts.backoff.next());
    };
    schedule();
  }

  private startWatchdog(tickIntervalMs: number): void {
    this.stopWatchdog();
    this.lastFrameAt = Date.now();
    // Silence for two tick periods means the link is dead even if TCP has not noticed.
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastFrameAt <= 2 * tickIntervalMs) return;
      this.ws?.close(DEAD_LINK_CLOSE, "no traffic for 2 tick intervals");
      // Some runtimes wait for the peer's close frame, which a dead peer never sends.
      const ws = this.ws;
      if (ws) {
        this.ws = null;
        ws.onclose = null;
        ws.onmessage = null;
        this.onDrop(DEAD_LINK_CLOSE, "dead link");
      }
    }, Math.max(50, Math.floor(tickIntervalMs / 2)));
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}
