/**
 * GatewayClient: speaks the gateway protocol over a standard `WebSocket`, so the same
 * code runs in Bun, Deno, Node ≥ 22 and browsers.
 */
import {
  PROTOCOL_VERSION,
  type ErrorShape,
  type EventFrame,
  type HelloError,
  type HelloOk,
  type MethodName,
  type MethodParams,
  type MethodResult,
} from "../protocol/index.ts";

export type ClientErrorKind = "connect" | "handshake" | "closed" | "timeout" | "remote";

/** Every failure the client reports, sorted by where it failed. */
export class GatewayClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    readonly detail: { code?: string; closeCode?: number; error?: ErrorShape; helloError?: HelloError } = {},
  ) {
    super(message);
    this.name = "GatewayClientError";
  }
}

export interface GatewayClientOptions {
  url: string;
  token?: string;
  client?: { name?: string; version?: string; platform?: string; mode?: string; instanceId?: string; host?: string };
  caps?: string[];
  /** Default per-request timeout (ms). */
  timeoutMs?: number;
  /** Alternative WebSocket constructor (e.g. `ws` on Node 20). */
  WebSocket?: typeof WebSocket;
}

type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** For two-stage methods: called with the ack payload, then wait for the final. */
  onAck?: (payload: unknown) => void;
};

export class GatewayClient {
  private ws: WebSocket | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<string, Set<(frame: EventFrame) => void>>();
  private nextId = 0;
  hello: HelloOk | null = null;

  constructor(private readonly opts: GatewayClientOptions) {}

  /** Open the socket and complete the handshake. */
  connect(timeoutMs = this.opts.timeoutMs ?? 10_000): Promise<HelloOk> {
    const WS = this.opts.WebSocket ?? globalThis.WebSocket;
    if (!WS) throw new GatewayClientError("connect", "no WebSocket implementation in this runtime");
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: GatewayClientError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(new GatewayClientError("timeout", `no hello-ok from ${this.opts.url} within ${timeoutMs} ms`));
        ws.close();
      }, timeoutMs);
      let ws: WebSocket;
      try {
        ws = new WS(this.opts.url);
      } catch (err) {
        return fail(new GatewayClientError("connect", `cannot connect to ${this.opts.url}: ${(err as Error).message}`));
      }
      this.ws = ws;
      let opened = false;
      ws.onopen = () => {
        opened = true;
        const c = this.opts.client ?? {};
        ws.send(
          JSON.stringify({
            type: "hello",
            minProtocol: PROTOCOL_VERSION,
            maxProtocol: PROTOCOL_VERSION,
            client: {
              name: c.name ?? "clawdis-client",
              version: c.version ?? "0",
              platform: c.platform ?? (typeof process !== "undefined" ? process.platform : "browser"),
              mode: c.mode ?? "cli",
              instanceId: c.instanceId ?? crypto.randomUUID(),
              ...(c.host ? { host: c.host } : {}),
            },
            caps: this.opts.caps ?? [],
            ...(this.opts.token ? { auth: { token: this.opts.token } } : {}),
          }),
        );
      };
      ws.onmessage = (evt) => {
        let frame: { type?: string } & Record<string, unknown>;
        try {
          frame = JSON.parse(String(evt.data));
        } catch {
          return;
        }
        if (frame.type === "hello-ok") {
          this.hello = frame as unknown as HelloOk;
          settled = true;
          clearTimeout(timer);
          resolve(this.hello);
        } else if (frame.type === "hello-error") {
          const he = frame as unknown as HelloError;
          fail(new GatewayClientError("handshake", `gateway refused the handshake: ${he.reason}: ${he.message}`, { helloError: he }));
        } else this.onFrame(frame);
      };
      ws.onclose = (evt) => {
        fail(
          new GatewayClientError(
            opened ? "handshake" : "connect",
            opened
              ? `connection closed during handshake (${evt.code} ${evt.reason})`
              : `could not connect to ${this.opts.url} (is the gateway running?)`,
            { closeCode: evt.code },
          ),
        );
        this.failAll(new GatewayClientError("closed", `connection closed (${evt.code} ${evt.reason})`, { closeCode: evt.code }));
      };
    });
  }

  /** Subscribe to an event by name ("*" for all); returns the unsubscribe function. */
  on(event: string, fn: (frame: EventFrame) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** One request; resolves with the (final) payload or rejects with a GatewayClientError. */
  request<M extends MethodName>(
    method: M,
    params?: MethodParams<M>,
    opts: { timeoutMs?: number; onAck?: (payload: unknown) => void } = {},
  ): Promise<MethodResult<M>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) {
      return Promise.reject(new GatewayClientError("closed", "not connected to the gateway"));
    }
    const id = `c${++this.nextId}`;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayClientError("timeout", `${method} got no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, ...(opts.onAck ? { onAck: opts.onAck } : {}) });
      ws.send(JSON.stringify({ type: "req", id, method, ...(params !== undefined ? { params } : {}) }));
    });
  }

  close(): void {
    this.ws?.close(1000, "client closing");
  }

  private onFrame(frame: Record<string, unknown>): void {
    if (frame.type === "res") {
      const p = this.pending.get(frame.id as string);
      if (!p) return;
      if (frame.ok === true) {
        const payload = frame.payload as { status?: string } | undefined;
        if (p.onAck && payload?.status === "accepted") {
          p.onAck(payload);
          return;
        }
        this.pending.delete(frame.id as string);
        clearTimeout(p.timer);
        p.resolve(frame.payload);
      } else {
        this.pending.delete(frame.id as string);
        clearTimeout(p.timer);
        const error = frame.error as ErrorShape;
        p.reject(new GatewayClientError("remote", `${error.code}: ${error.message}`, { code: error.code, error }));
      }
    } else if (frame.type === "event") {
      const ev = frame as unknown as EventFrame;
      for (const key of [ev.event, "*"]) for (const fn of this.listeners.get(key) ?? []) fn(ev);
    }
  }

  private failAll(err: GatewayClientError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }
}
