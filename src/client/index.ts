/**
 * GatewayClient: speaks the gateway protocol over a standard `WebSocket` only, so the
 * same code runs in Bun, Deno, Node ≥ 22 and browsers (WebChat reuses it).
 */
import {
  CAPS,
  PROTOCOL_VERSION,
  type AgentEvent,
  type AgentFinal,
  type AgentParams,
  type ErrorShape,
  type EventFrame,
  type Health,
  type HelloError,
  type HelloOk,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type PresenceEntry,
  type PresenceEvent,
  type PresenceListEvent,
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

  /** Worth retrying with the same idempotency key: the request may not have run. */
  get retryable(): boolean {
    return this.kind === "closed" || this.kind === "timeout" || this.kind === "connect" || this.detail.error?.retryable === true;
  }
}

export type ClientState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface GatewayClientOptions {
  url: string;
  token?: string;
  client?: { name?: string; version?: string; platform?: string; mode?: string; instanceId?: string; host?: string };
  /** Capabilities announced in hello; default `["presence-deltas"]` (the mirror reads either shape). */
  caps?: string[];
  /** Default per-request timeout (ms); 30 s. */
  timeoutMs?: number;
  /** Handshake timeout (ms); 10 s. */
  connectTimeoutMs?: number;
  /** Reconnect after the connection drops (default true). */
  reconnect?: boolean;
  /** Exponential backoff bounds for reconnects: 1 s → 30 s by default, with jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * Called on a real gap — `seq` skipped, or a reconnect the gateway could not resume
   * (`reason` says why); the default refreshes health and presence.
   */
  onGap?: (gap: { expected: number; received: number; reason?: string }, client: GatewayClient) => void | Promise<void>;
  /** Resume from the last cursor after a reconnect (default true). */
  resume?: boolean;
  /** After every handshake (first and reconnects). */
  onHello?: (hello: HelloOk) => void;
  onStateChange?: (state: ClientState, detail?: string) => void;
  /** Alternative WebSocket constructor (e.g. `ws` on Node 20). */
  WebSocket?: typeof WebSocket;
  /** Source of jitter; tests may pin it. */
  random?: () => number;
}

type Pending = {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Two-stage methods: the ack goes here, and the promise waits for the final. */
  onAck?: (payload: unknown) => void;
};

/** Close code the client uses when it gives up on a silent link (4xxx: application range). */
const DEAD_LINK_CLOSE = 4100;
const PENDING_LIMIT = 10_000;

export class GatewayClient {
  private ws: WebSocket | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Map<string, Set<(frame: EventFrame) => void>>();
  private nextId = 0;
  private lastSeq = 0;
  private lastFrameAt = 0;
  private attempt = 0;
  private restartHintMs: number | null = null;
  private userClosed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private readonly instanceId: string;
  private _state: ClientState = "idle";
  private presenceVersion = 0;
  /** Cursor of the last journaled event seen: where a reconnect resumes from. */
  lastCursor: string | null = null;
  /** The last `hello-ok`. */
  hello: HelloOk | null = null;
  /** Presence kept current from the snapshot, `presence` events and refreshes. */
  readonly presence = new Map<string, PresenceEntry>();
  /** Health kept current from the snapshot, `health` events and refreshes. */
  health: Health | null = null;

  constructor(private readonly opts: GatewayClientOptions) {
    this.instanceId = opts.client?.instanceId ?? crypto.randomUUID();
  }

  get state(): ClientState {
    return this._state;
  }

  /**
   * Open the socket and complete the handshake. Rejects on the first failure unless
   * `retry` is set, in which case it keeps trying with backoff until it succeeds or
   * `close()` is called.
   */
  async connect(opts: { retry?: boolean } = {}): Promise<HelloOk> {
    this.userClosed = false;
    for (;;) {
      try {
        return await this.open();
      } catch (err) {
        const e = err as GatewayClientError;
        if (!opts.retry || this.userClosed || (e.kind === "handshake" && e.detail.helloError?.reason !== "unavailable")) throw err;
        await new Promise((r) => setTimeout(r, this.nextDelay()));
        if (this.userClosed) throw err;
      }
    }
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
    if (!ws || ws.readyState !== 1 || this._state !== "open") {
      return Promise.reject(new GatewayClientError("closed", "not connected to the gateway"));
    }
    if (this.pending.size >= PENDING_LIMIT) {
      return Promise.reject(new GatewayClientError("closed", `too many requests pending (${PENDING_LIMIT})`));
    }
    const id = `c${++this.nextId}`;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayClientError("timeout", `${method} got no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        ...(opts.onAck ? { onAck: opts.onAck } : {}),
      });
      ws.send(JSON.stringify({ type: "req", id, method, ...(params !== undefined ? { params } : {}) }));
    });
  }

  /**
   * Run an agent turn: `onAccepted` gets the runId from the ack, `onEvent` each streamed
   * event of this run; resolves with the final payload.
   */
  async agent(
    params: AgentParams,
    opts: { onAccepted?: (runId: string) => void; onEvent?: (event: AgentEvent) => void; timeoutMs?: number } = {},
  ): Promise<AgentFinal> {
    let runId: string | null = null;
    const early: AgentEvent[] = [];
    const off = this.on("agent", (frame) => {
      const ev = frame.payload as AgentEvent;
      if (runId === null) early.push(ev);
      else if (ev.runId === runId) opts.onEvent?.(ev);
    });
    try {
      try {
        const final = await this.request("agent", params, {
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
          onAck: (ack) => {
            runId = (ack as { runId: string }).runId;
            opts.onAccepted?.(runId);
            for (const ev of early.splice(0)) if (ev.runId === runId) opts.onEvent?.(ev);
          },
        });
        return final as AgentFinal;
      } catch (err) {
        // The link dropped mid-run: the run goes on in the gateway. Reconnect (resuming the
        // event stream), then ask for the outcome by runId.
        if (!(err instanceof GatewayClientError) || err.kind !== "closed" || runId === null || this.userClosed || this.opts.reconnect === false) {
          throw err;
        }
        const id: string = runId;
        await this.waitOpen(opts.timeoutMs ?? 60_000);
        return await this.request("agent.wait", { runId: id }, opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {});
      }
    } finally {
      off();
    }
  }

  /** Re-read health and presence (what the runbook asks after a seq gap). */
  async refresh(): Promise<void> {
    const [health, list] = await Promise.all([this.request("health"), this.request("system-presence")]);
    this.health = health;
    this.presence.clear();
    // The bare list (a client without `presence-deltas`) carries no version: events after it are newer.
    for (const e of Array.isArray(list) ? list : list.presence) this.presence.set(e.instanceId ?? e.host, e);
    if (!Array.isArray(list)) this.presenceVersion = list.stateVersion.presence;
  }

  /** Close for good: no reconnect; pending requests are rejected. */
  close(): void {
    this.userClosed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopWatchdog();
    this.failAll(new GatewayClientError("closed", "client closed"));
    this.setState("closed");
    this.ws?.close(1000, "client closing");
  }

  private setState(state: ClientState, detail?: string): void {
    if (this._state === state) return;
    this._state = state;
    this.opts.onStateChange?.(state, detail);
  }

  private nextDelay(): number {
    if (this.restartHintMs !== null) {
      const hint = this.restartHintMs;
      this.restartHintMs = null;
      return hint + Math.floor((this.opts.random ?? Math.random)() * 250);
    }
    const initial = this.opts.backoff?.initialMs ?? 1_000;
    const max = this.opts.backoff?.maxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** this.attempt);
    this.attempt += 1;
    // Equal jitter: half fixed, half random, so a fleet does not reconnect in lockstep.
    return Math.round(base / 2 + (this.opts.random ?? Math.random)() * (base / 2));
  }

  private open(): Promise<HelloOk> {
    const WS = this.opts.WebSocket ?? globalThis.WebSocket;
    if (!WS) return Promise.reject(new GatewayClientError("connect", "no WebSocket implementation in this runtime"));
    this.setState(this.hello ? "reconnecting" : "connecting");
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let settled = false;
      let opened = false;
      let ws: WebSocket;
      const fail = (err: GatewayClientError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(() => {
        fail(new GatewayClientError("timeout", `no hello-ok from ${this.opts.url} within ${timeoutMs} ms`));
        try {
          ws.close();
        } catch {}
      }, timeoutMs);
      try {
        ws = new WS(this.opts.url);
      } catch (err) {
        return fail(new GatewayClientError("connect", `cannot connect to ${this.opts.url}: ${(err as Error).message}`));
      }
      this.ws = ws;
      // `ws` (Node 20) throws on an error event nobody listens to; close follows anyway.
      ws.onerror = () => {};
      ws.onopen = () => {
        opened = true;
        ws.send(JSON.stringify(this.helloFrame()));
      };
      ws.onmessage = (evt) => {
        this.lastFrameAt = Date.now();
        let frame: Record<string, unknown>;
        try {
          frame = JSON.parse(String(evt.data));
        } catch {
          return;
        }
        if (frame.type === "hello-ok") {
          settled = true;
          clearTimeout(timer);
          this.onHelloOk(frame as unknown as HelloOk);
          resolve(this.hello!);
        } else if (frame.type === "hello-error") {
          const he = frame as unknown as HelloError;
          fail(new GatewayClientError("handshake", `gateway refused the handshake: ${he.reason}: ${he.message}`, { helloError: he }));
        } else this.onFrame(frame);
      };
      ws.onclose = (evt) => {
        if (this.ws === ws) this.ws = null;
        fail(
          new GatewayClientError(
            opened ? "handshake" : "connect",
            opened
              ? `connection closed during handshake (${evt.code}${evt.reason ? ` ${evt.reason}` : ""})`
              : `could not connect to ${this.opts.url} (is the gateway running?)`,
            { closeCode: evt.code },
          ),
        );
        if (settled && this._state === "open") this.onDrop(evt.code, evt.reason);
      };
    });
  }

  private helloFrame() {
    const c = this.opts.client ?? {};
    return {
      type: "hello",
      minProtocol: PROTOCOL_VERSION,
      maxProtocol: PROTOCOL_VERSION,
      client: {
        name: c.name ?? "clawdis-client",
        version: c.version ?? "0",
        platform: c.platform ?? (typeof process !== "undefined" && process.platform ? process.platform : "browser"),
        mode: c.mode ?? "cli",
        instanceId: this.instanceId,
        ...(c.host ? { host: c.host } : {}),
      },
      caps: this.opts.caps ?? [CAPS.presenceDeltas],
      ...(this.opts.token ? { auth: { token: this.opts.token } } : {}),
      ...(this.lastCursor && this.opts.resume !== false ? { resume: { cursor: this.lastCursor } } : {}),
    };
  }

  private onHelloOk(hello: HelloOk): void {
    this.hello = hello;
    this.attempt = 0;
    this.lastSeq = 0;
    this.health = hello.snapshot.health;
    this.presence.clear();
    for (const e of hello.snapshot.presence) this.presence.set(e.instanceId ?? e.host, e);
    this.presenceVersion = hello.snapshot.stateVersion.presence;
    // Resumed: the replay that follows moves the cursor on. Otherwise start from the snapshot.
    if (!hello.resume?.ok && hello.snapshot.cursor) this.lastCursor = hello.snapshot.cursor;
    this.setState("open");
    this.startWatchdog(hello.policy.tickIntervalMs);
    this.opts.onHello?.(hello);
    // Events were lost for good: the runbook's answer is a refresh.
    if (hello.resume && !hello.resume.ok) this.onGap(0, 0, hello.resume.reason ?? "resume refused");
  }

  /** Resolves once the connection is open (again), or rejects after `timeoutMs` or on close(). */
  waitOpen(timeoutMs: number): Promise<void> {
    if (this._state === "open") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const end = Date.now() + timeoutMs;
      const check = setInterval(() => {
        if (this._state === "open") {
          clearInterval(check);
          resolve();
        } else if (this._state === "closed" || Date.now() > end) {
          clearInterval(check);
          reject(new GatewayClientError("closed", `not reconnected within ${timeoutMs} ms`));
        }
      }, 20);
    });
  }

  /** The link dropped after a handshake: fail what was pending, then reconnect. */
  private onDrop(code: number, reason: string): void {
    this.stopWatchdog();
    this.failAll(new GatewayClientError("closed", `connection closed (${code}${reason ? ` ${reason}` : ""})`, { closeCode: code }));
    if (this.userClosed || this.opts.reconnect === false) return this.setState("closed", reason);
    this.setState("reconnecting", reason);
    const schedule = () => {
      if (this.userClosed) return;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.open().catch((err: GatewayClientError) => {
          if (err.kind === "handshake" && err.detail.helloError && err.detail.helloError.reason !== "unavailable") {
            // A refused handshake will not fix itself: stop and say why.
            return this.setState("closed", err.message);
          }
          schedule();
        });
      }, this.nextDelay());
    };
    schedule();
  }

  private startWatchdog(tickIntervalMs: number): void {
    this.stopWatchdog();
    this.lastFrameAt = Date.now();
    // Silence for two tick periods means the link is dead even if TCP has not noticed.
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastFrameAt > 2 * tickIntervalMs) {
        this.ws?.close(DEAD_LINK_CLOSE, "no traffic for 2 tick intervals");
        // Some runtimes wait for the peer's close frame, which a dead peer never sends.
        const ws = this.ws;
        if (ws) {
          this.ws = null;
          ws.onclose = null;
          ws.onmessage = null;
          this.onDrop(DEAD_LINK_CLOSE, "dead link");
        }
      }
    }, Math.max(50, Math.floor(tickIntervalMs / 2)));
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private onFrame(frame: Record<string, unknown>): void {
    if (frame.type === "res") return this.onRes(frame);
    if (frame.type !== "event") return;
    const ev = frame as unknown as EventFrame;
    if (ev.cursor) this.lastCursor = ev.cursor;
    if (ev.seq !== undefined) {
      const expected = this.lastSeq + 1;
      this.lastSeq = ev.seq;
      if (ev.seq !== expected) this.onGap(expected, ev.seq);
    }
    if (ev.event === "presence") this.applyPresence(ev);
    else if (ev.event === "health") this.health = ev.payload as Health;
    else if (ev.event === "shutdown") {
      const hint = (ev.payload as { restartExpectedMs?: number }).restartExpectedMs;
      if (hint !== undefined) this.restartHintMs = hint;
    }
    for (const key of [ev.event, "*"]) {
      for (const fn of this.listeners.get(key) ?? []) {
        try {
          fn(ev);
        } catch {}
      }
    }
  }

  private onGap(expected: number, received: number, reason?: string): void {
    const handler = this.opts.onGap ?? ((_gap, client) => client.refresh());
    void Promise.resolve()
      .then(() => handler({ expected, received, ...(reason ? { reason } : {}) }, this))
      .catch(() => {});
  }

  private applyPresence(ev: EventFrame): void {
    const version = ev.stateVersion?.presence;
    // Deltas older than the snapshot we hold are already in it.
    if (version !== undefined && version <= this.presenceVersion) return;
    const payload = ev.payload as PresenceEvent | PresenceListEvent;
    if ("presence" in payload) {
      // The runbook's shape: the whole list.
      this.presence.clear();
      for (const e of payload.presence) this.presence.set(e.instanceId ?? e.host, e);
    } else {
      for (const e of payload.upserted) this.presence.set(e.instanceId ?? e.host, e);
      for (const e of payload.removed) this.presence.delete(e.instanceId ?? e.host);
    }
    if (version !== undefined) this.presenceVersion = version;
  }

  private onRes(frame: Record<string, unknown>): void {
    const id = frame.id as string;
    const p = this.pending.get(id);
    if (!p) return;
    if (frame.ok === true) {
      const payload = frame.payload as { status?: string } | undefined;
      if (p.onAck && payload?.status === "accepted") return p.onAck(payload);
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve(frame.payload);
    } else {
      this.pending.delete(id);
      clearTimeout(p.timer);
      const error = frame.error as ErrorShape;
      p.reject(new GatewayClientError("remote", `${error.code}: ${error.message}`, { code: error.code, error }));
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
