/**
 * GatewayClient: speaks the gateway protocol over a standard `WebSocket` only, so the
 * same code runs in Bun, Deno and Node ≥ 22 (the CLI, WebChat's relay, the tests).
 * Three layers behind one API: the transport (socket, handshake, watchdog, reconnect),
 * the session (requests and their responses) and the mirror (presence and health).
 */
import {
  CAPS,
  PROTOCOL_VERSION,
  type AgentEvent,
  type AgentFinal,
  type AgentParams,
  type EventFrame,
  type EventName,
  type EventPayload,
  type Health,
  type HelloOk,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type PresenceEntry,
} from "../protocol/index.ts";
import { Backoff } from "../core/backoff.ts";
import { GatewayClientError } from "./errors.ts";
import { Mirror, type Gap } from "./mirror.ts";
import { Session } from "./session.ts";
import { Transport, type ClientState } from "./transport.ts";

export { GatewayClientError, type ClientErrorKind } from "./errors.ts";
export type { ClientState } from "./transport.ts";

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
  onGap?: (gap: Gap, client: GatewayClient) => void | Promise<void>;
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

/** What `on(event)` hands its listener: the event frame with that event's payload type ("*": any). */
export type ClientEventFrame<E extends EventName | "*"> = E extends EventName
  ? Omit<EventFrame, "event" | "payload"> & { event: E; payload: EventPayload<E> }
  : EventFrame;

export class GatewayClient {
  private readonly transport: Transport;
  private readonly session = new Session();
  private readonly mirror = new Mirror();
  private readonly backoff: Backoff;
  private readonly listeners = new Map<string, Set<(frame: EventFrame) => void>>();
  private readonly instanceId: string;
  /** The last `hello-ok`. */
  hello: HelloOk | null = null;

  constructor(private readonly opts: GatewayClientOptions) {
    this.instanceId = opts.client?.instanceId ?? crypto.randomUUID();
    this.backoff = new Backoff(opts.backoff, opts.random);
    this.transport = new Transport(
      {
        url: opts.url,
        ...(opts.WebSocket ? { WebSocket: opts.WebSocket } : {}),
        connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
        reconnect: opts.reconnect !== false,
        backoff: this.backoff,
        hello: () => this.helloFrame(),
      },
      {
        handshake: (hello) => {
          this.hello = hello;
          this.mirror.fromHello(hello);
        },
        opened: (hello) => {
          this.opts.onHello?.(hello);
          // Events were lost for good: the runbook's answer is a refresh.
          if (hello.resume && !hello.resume.ok) this.onGap({ expected: 0, received: 0, reason: hello.resume.reason ?? "resume refused" });
        },
        frame: (frame) => this.onFrame(frame),
        dropped: (err) => this.session.failAll(err),
        state: (state, detail) => this.opts.onStateChange?.(state, detail),
      },
    );
  }

  get state(): ClientState {
    return this.transport.state;
  }

  /** Presence kept current from the snapshot, `presence` events and refreshes. */
  get presence(): Map<string, PresenceEntry> {
    return this.mirror.presence;
  }

  /** Health kept current from the snapshot, `health` events and refreshes. */
  get health(): Health | null {
    return this.mirror.health;
  }

  /** Cursor of the last journaled event seen: where a reconnect resumes from. */
  get lastCursor(): string | null {
    return this.mirror.lastCursor;
  }

  set lastCursor(cursor: string | null) {
    this.mirror.lastCursor = cursor;
  }

  /**
   * Open the socket and complete the handshake. Rejects on the first failure unless
   * `retry` is set, in which case it keeps trying with backoff until it succeeds or
   * `close()` is called.
   */
  connect(opts: { retry?: boolean } = {}): Promise<HelloOk> {
    return this.transport.connect(opts);
  }

  /** Subscribe to an event by name ("*" for all), typed by its payload; returns the unsubscribe function. */
  on<E extends EventName | "*">(event: E, fn: (frame: ClientEventFrame<E>) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const listener = fn as (frame: EventFrame) => void;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** One request; resolves with the (final) payload or rejects with a GatewayClientError. */
  request<M extends MethodName>(
    method: M,
    params?: MethodParams<M>,
    opts: { timeoutMs?: number; onAck?: (payload: unknown) => void } = {},
  ): Promise<MethodResult<M>> {
    if (!this.transport.writable) return Promise.reject(new GatewayClientError("closed", "not connected to the gateway"));
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    return this.session.request((frame) => this.transport.send(frame), method, params, timeoutMs, opts.onAck) as Promise<MethodResult<M>>;
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
      const ev = frame.payload;
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
        if (!(err instanceof GatewayClientError) || err.kind !== "closed" || runId === null || this.transport.closedByUser || this.opts.reconnect === false) {
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
    this.mirror.applyRefresh(health, list);
  }

  /** Close for good: no reconnect; pending requests are rejected. */
  close(): void {
    this.session.failAll(new GatewayClientError("closed", "client closed"));
    this.transport.close();
  }

  /** Resolves once the connection is open (again), or rejects after `timeoutMs` or on close(). */
  waitOpen(timeoutMs: number): Promise<void> {
    return this.transport.waitOpen(timeoutMs);
  }

  private helloFrame() {
    const c = this.opts.client ?? {};
    const cursor = this.mirror.lastCursor;
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
      ...(cursor && this.opts.resume !== false ? { resume: { cursor } } : {}),
    };
  }

  private onFrame(frame: Record<string, unknown>): void {
    if (frame.type === "res") return this.session.onRes(frame);
    if (frame.type !== "event") return;
    const ev = frame as unknown as EventFrame;
    const gap = this.mirror.onEvent(ev);
    if (gap) this.onGap(gap);
    if (ev.event === "shutdown") {
      const hint = (ev.payload as { restartExpectedMs?: number }).restartExpectedMs;
      if (hint !== undefined) this.backoff.hint(hint);
    }
    for (const key of [ev.event, "*"]) {
      for (const fn of this.listeners.get(key) ?? []) {
        try {
          fn(ev);
        } catch {}
      }
    }
  }

  private onGap(gap: Gap): void {
    const handler = this.opts.onGap ?? ((_gap, client) => client.refresh());
    void Promise.resolve()
      .then(() => handler(gap, this))
      .catch(() => {});
  }
}
