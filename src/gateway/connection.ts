import * as v from "valibot";
import {
  CloseCode,
  EVENT_NAMES,
  GatewayError,
  HelloSchema,
  METHOD_NAMES,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  ReqSchema,
  type ClientInfo,
  type HelloErrorReason,
  type HelloOk,
} from "../protocol/index.ts";
import type { WireSocket } from "../runtime/types.ts";
import { tokenMatches } from "./auth.ts";
import type { EventSink, SendBudget, SendOptions } from "./broadcast.ts";
import type { Caller, GatewayContext } from "./context.ts";
import { invoke } from "./methods/index.ts";

/** Frames before `hello-ok` are capped this small whatever `maxPayload` says. */
export const PRE_AUTH_MAX_BYTES = 64 * 1024;
/** Requests a single connection may have in flight (agent runs included). */
export const MAX_IN_FLIGHT = 256;

type State = "handshake" | "open" | "closed";

/** Close reasons travel in a control frame: at most 123 bytes. */
function clip(reason: string): string {
  let out = reason;
  while (new TextEncoder().encode(out).length > 123) out = out.slice(0, -2);
  return out;
}

function byteLength(s: string, limit: number): number {
  // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
  if (s.length * 3 <= limit) return s.length;
  return Buffer.byteLength(s, "utf8");
}

/** One client socket: handshake, frame decoding, dispatch, and its share of broadcasts. */
export class Connection implements EventSink {
  private state: State = "handshake";
  private seq = 0;
  private inFlight = 0;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private caller: Caller | null = null;

  constructor(
    private readonly gw: GatewayContext,
    private readonly sock: WireSocket,
    readonly connId: string,
    readonly remote: string,
    private readonly origin: string | undefined,
    private readonly onGone: (conn: Connection) => void,
  ) {
    this.handshakeTimer = setTimeout(
      () => this.close(CloseCode.HANDSHAKE_TIMEOUT, `no hello within ${gw.config.gateway.handshakeTimeoutMs} ms`),
      gw.config.gateway.handshakeTimeoutMs,
    );
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  get instanceId(): string | null {
    return this.caller?.instanceId ?? null;
  }

  /** A frame arrived from the client. */
  onMessage(data: unknown): void {
    if (this.state === "closed") return;
    if (typeof data !== "string") {
      return this.close(CloseCode.UNSUPPORTED_DATA, "binary frames are not supported: send JSON text");
    }
    const { maxPayload } = this.gw.config.gateway;
    const limit = this.state === "handshake" ? Math.min(maxPayload, PRE_AUTH_MAX_BYTES) : maxPayload;
    if (byteLength(data, limit) > limit) {
      return this.close(CloseCode.MESSAGE_TOO_BIG, `frame exceeds ${limit} bytes`);
    }
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch (err) {
      return this.close(CloseCode.INVALID_JSON, `malformed JSON: ${(err as Error).message}`);
    }
    if (this.state === "handshake") return this.onHello(frame);
    this.onFrame(frame);
  }

  /** The socket closed (either side). Idempotent. */
  onClosed(code: number, reason: string): void {
    if (this.state === "closed" && this.caller === null) return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    this.gw.metrics.disconnected(wasOpen ? this.caller?.client.mode : undefined, code === CloseCode.SLOW_CONSUMER);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.gw.broadcaster.remove(this);
    if (wasOpen && this.caller) {
      const why =
        code === CloseCode.SLOW_CONSUMER ? "slow-consumer" : code === CloseCode.GOING_AWAY ? "shutdown" : "disconnect";
      this.gw.presence.release(this.caller.instanceId, why);
      this.gw.log.debug("client disconnected", { connId: this.connId, code, reason, instanceId: this.caller.instanceId });
      this.gw.clientStats.left += 1;
    }
    this.caller = null;
    this.onGone(this);
  }

  /** Close with a documented code; cleanup runs at once, not on the runtime's schedule. */
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.gw.log.debug("closing connection", { connId: this.connId, code, reason });
    try {
      this.sock.close(code, clip(reason));
    } catch {}
    this.onClosed(code, reason);
  }

  sendEvent(prefix: string, opts: SendOptions): boolean {
    if (this.state !== "open") return false;
    // Number the event even if it is dropped: the gap tells the client to refresh.
    const frame = opts.seq ? `${prefix},"seq":${++this.seq}}` : `${prefix}}`;
    return this.write(frame, opts.droppable, opts.budget);
  }

  private write(frame: string, droppable: boolean, budget?: SendBudget): boolean {
    const { maxBufferedBytes } = this.gw.config.gateway;
    const buffered = this.sock.bufferedAmount();
    if (buffered > maxBufferedBytes) {
      this.close(CloseCode.SLOW_CONSUMER, `slow consumer: ${buffered} bytes unread (max ${maxBufferedBytes})`);
      return false;
    }
    if (droppable && buffered > maxBufferedBytes / 2) return false;
    if (budget) {
      if (budget.used + buffered + frame.length > budget.limit) return false;
      budget.used += buffered + frame.length;
    }
    try {
      this.sock.send(frame);
      return true;
    } catch (err) {
      this.gw.log.debug("send failed", { connId: this.connId, error: String(err) });
      return false;
    }
  }

  private helloError(reason: HelloErrorReason, message: string, code: number, extra: Record<string, unknown> = {}): void {
    this.gw.log.info("hello refused", { connId: this.connId, remote: this.remote, reason, message });
    this.gw.metrics.handshake(reason);
    this.write(JSON.stringify({ type: "hello-error", reason, message, ...extra }), false);
    this.close(code, message);
  }

  private onHello(frame: unknown): void {
    if (typeof frame !== "object" || frame === null || (frame as { type?: unknown }).type !== "hello") {
      return this.close(CloseCode.PROTOCOL_ERROR, "first frame must be hello");
    }
    const parsed = v.safeParse(HelloSchema, frame);
    if (!parsed.success) {
      const issue = parsed.issues[0]!;
      const path = v.getDotPath(issue) ?? "hello";
      return this.helloError(
        "invalid-hello",
        `invalid hello: ${path}: expected ${issue.expected ?? issue.type}, got ${issue.received}`,
        CloseCode.INVALID_HELLO,
      );
    }
    const hello = parsed.output;
    if (hello.minProtocol > hello.maxProtocol) {
      return this.helloError(
        "invalid-hello",
        `invalid hello: minProtocol ${hello.minProtocol} is above maxProtocol ${hello.maxProtocol}`,
        CloseCode.INVALID_HELLO,
      );
    }
    if (this.gw.shuttingDown()) {
      return this.helloError("unavailable", "gateway is shutting down; reconnect shortly", CloseCode.TRY_AGAIN_LATER, {
        retryAfterMs: 1_000,
      });
    }
    const token = this.gw.config.gateway.token;
    if (token !== undefined) {
      // Past the limit nothing is compared: a brute force learns nothing more.
      const wait = this.gw.authLimiter.retryAfter(this.remote, this.origin);
      if (wait > 0) {
        return this.helloError("rate-limited", `too many failed auth attempts from ${this.remote}; retry in ${Math.ceil(wait / 1000)} s`, CloseCode.RATE_LIMITED, {
          retryAfterMs: wait,
        });
      }
      if (!tokenMatches(hello.auth?.token, token)) {
        this.gw.authLimiter.fail(this.remote, this.origin);
        const message = hello.auth?.token === undefined ? "token required: send hello.auth.token" : "token rejected";
        return this.helloError("unauthorized", message, CloseCode.UNAUTHORIZED);
      }
    }
    const protocol = Math.min(hello.maxProtocol, PROTOCOL_VERSION);
    if (protocol < Math.max(hello.minProtocol, MIN_PROTOCOL_VERSION)) {
      return this.helloError(
        "protocol-mismatch",
        `no common protocol version: client speaks ${hello.minProtocol}–${hello.maxProtocol}, gateway ${MIN_PROTOCOL_VERSION}–${PROTOCOL_VERSION}`,
        CloseCode.PROTOCOL_MISMATCH,
        { supported: { minProtocol: MIN_PROTOCOL_VERSION, maxProtocol: PROTOCOL_VERSION } },
      );
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.accept(hello.client, protocol, hello.resume?.cursor);
  }

  private accept(client: ClientInfo, protocol: number, resumeFrom?: string): void {
    const gw = this.gw;
    this.caller = { connId: this.connId, instanceId: client.instanceId, client, remote: this.remote };
    gw.presence.upsert(
      {
        host: client.host ?? this.remote,
        ip: this.remote,
        version: client.version,
        mode: client.mode,
        platform: client.platform,
        instanceId: client.instanceId,
        ts: Date.now(),
        reason: "connect",
      },
      true,
    );
    const { maxPayload, maxBufferedBytes, tickIntervalMs } = gw.config.gateway;
    const helloOk: HelloOk = {
      type: "hello-ok",
      protocol,
      server: { version: gw.build.version, commit: gw.build.commit, host: gw.host, connId: this.connId },
      features: { methods: [...METHOD_NAMES], events: [...EVENT_NAMES] },
      snapshot: {
        presence: gw.presence.list(),
        health: gw.health.snapshot(),
        stateVersion: gw.stateVersion(),
        uptimeMs: Date.now() - gw.startedAt,
        cursor: gw.journal.cursor,
      },
      policy: { maxPayload, maxBufferedBytes, tickIntervalMs },
    };
    const resumed = resumeFrom !== undefined ? gw.journal.since(resumeFrom) : null;
    if (resumed) {
      helloOk.resume = resumed.ok ? { ok: true, replayed: resumed.entries.length } : { ok: false, reason: resumed.reason };
    }
    this.state = "open";
    this.write(JSON.stringify(helloOk), false);
    // Missed events first, in order, numbered on with this connection's seq; all in this
    // same turn of the event loop, so no live event can come between them.
    if (resumed?.ok) for (const prefix of resumed.entries) this.sendEvent(prefix, { seq: true, droppable: false });
    // Only now: no live event may reach a client before its hello-ok (and its replay).
    gw.broadcaster.add(this);
    gw.clientStats.joined += 1;
    gw.metrics.handshake("ok");
    gw.metrics.connected(client.mode);
    gw.log.debug("client connected", {
      connId: this.connId,
      remote: this.remote,
      client: `${client.name}/${client.version}`,
      mode: client.mode,
      instanceId: client.instanceId,
    });
  }

  private onFrame(frame: unknown): void {
    const type = typeof frame === "object" && frame !== null ? (frame as { type?: unknown }).type : undefined;
    if (type === "hello") return this.close(CloseCode.PROTOCOL_ERROR, "hello already completed on this connection");
    if (type !== "req") return this.close(CloseCode.PROTOCOL_ERROR, `unknown frame type ${JSON.stringify(type)}`);
    const parsed = v.safeParse(ReqSchema, frame);
    if (!parsed.success) {
      const id = (frame as { id?: unknown }).id;
      if (typeof id !== "string" || id.length === 0 || id.length > 128) {
        return this.close(CloseCode.PROTOCOL_ERROR, "req frame needs a string id (1–128 chars)");
      }
      const issue = parsed.issues[0]!;
      const field = v.getDotPath(issue) ?? "req";
      return this.respondError(
        id,
        new GatewayError("INVALID_REQUEST", `invalid req: ${field}: expected ${issue.expected}, got ${issue.received}`, {
          details: { field },
        }),
      );
    }
    this.dispatch(parsed.output.id, parsed.output.method, parsed.output.params);
  }

  private dispatch(id: string, method: string, params: unknown): void {
    const gw = this.gw;
    if (gw.shuttingDown()) {
      return this.respondError(id, new GatewayError("UNAVAILABLE", "gateway is shutting down", { retryable: true }));
    }
    if (this.inFlight >= MAX_IN_FLIGHT) {
      return this.respondError(
        id,
        new GatewayError("UNAVAILABLE", `too many requests in flight on this connection (max ${MAX_IN_FLIGHT})`, {
          retryable: true,
          retryAfterMs: 100,
        }),
      );
    }
    if (gw.log.debugEnabled) gw.log.debug("req", { connId: this.connId, id, method });
    const t0 = performance.now();
    let result: unknown;
    try {
      result = invoke(method, params, { gw, caller: this.caller!, ack: (ackPayload) => this.respond(id, ackPayload) });
    } catch (err) {
      // Unknown method names are client text: counted under one label so they cannot grow the series.
      gw.metrics.request(err instanceof GatewayError && (err.details as { field?: string } | undefined)?.field === "method" ? "unknown" : method, false, t0);
      return this.fail(id, method, err);
    }
    // Synchronous methods answer in the same turn: no promise, no microtask.
    if (!(result instanceof Promise)) {
      this.respond(id, result);
      return gw.metrics.request(method, true, t0);
    }
    this.inFlight += 1;
    result.then(
      (payload) => (this.respond(id, payload), gw.metrics.request(method, true, t0)),
      (err) => (this.fail(id, method, err), gw.metrics.request(method, false, t0)),
    ).finally(() => {
      this.inFlight -= 1;
    });
  }

  private fail(id: string, method: string, err: unknown): void {
    if (err instanceof GatewayError) return this.respondError(id, err);
    this.gw.log.error("method failed", { connId: this.connId, method, error: err instanceof Error ? err.stack : String(err) });
    this.respondError(id, new GatewayError("UNAVAILABLE", `internal error in ${method}; see the gateway log`));
  }

  private respond(id: string, payload: unknown): void {
    if (this.gw.log.debugEnabled) this.gw.log.debug("res", { connId: this.connId, id, ok: true });
    this.write(`{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${JSON.stringify(payload ?? null)}}`, false);
  }

  private respondError(id: string, err: GatewayError): void {
    if (this.gw.log.debugEnabled) this.gw.log.debug("res", { connId: this.connId, id, ok: false, code: err.code });
    this.write(JSON.stringify({ type: "res", id, ok: false, error: err.toShape() }), false);
  }
}
