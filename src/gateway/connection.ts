import * as v from "valibot";
import { CloseCode, describeIssue, GatewayError, ReqSchema } from "../protocol/index.ts";
import { fastGuard } from "../protocol/fast-guard.ts";
import type { Hello, HelloError } from "../protocol/index.ts";
import type { SocketHandler, WireSocket } from "../runtime/types.ts";
import type { EventSink, SendBudget, SendOptions } from "./broadcast.ts";
import { clipReason, decodeFrame } from "./codec.ts";
import type { Caller, GatewayContext } from "./context.ts";
import { failureOf } from "./failure.ts";
import { handshake } from "./handshake.ts";
import { invoke } from "./methods/index.ts";
import { JsonText } from "./methods/types.ts";
import { startMarkOnce } from "../core/start-trace.ts";
import { connectEntry, helloOkFrame, helloOkJson, keptClient } from "./welcome.ts";

/** Frames before `hello-ok` are capped this small whatever `maxPayload` says. */
export const PRE_AUTH_MAX_BYTES = 64 * 1024;
/** Requests a single connection may have in flight (agent runs included). */
export const MAX_IN_FLIGHT = 256;

type State = "handshake" | "open" | "closed";

/** True for a req frame ReqSchema accepts as it is (derived from the schema; see fast-guard.ts). */
const isPlainReq = fastGuard(ReqSchema) ?? (() => false);

/** Where connections register: the server's set of sockets. */
export interface ConnectionRegistry {
  /** A socket opened; false refuses it (too many sockets still in their handshake). */
  admit(conn: Connection): boolean;
  /** The socket passed its handshake: it no longer holds a handshake slot. */
  settled?(conn: Connection): void;
  /** The connection is gone (closed either way). */
  gone(conn: Connection): void;
}

/** One client socket: handshake, frame decoding, dispatch, and its share of broadcasts. */
export class Connection implements EventSink, SocketHandler, Caller {
  private state: State = "handshake";
  private sock: WireSocket | null = null;
  private seq = 0;
  private inFlight = 0;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  /** Set at hello-ok: the connection is its own Caller (one object less per client). */
  instanceId = "";
  client!: Caller["client"];
  /** The newest full presence list not yet sent (full-list readers only; see ListPump). */
  private pendingList: string | null = null;
  /** The hello announced `presence-deltas`: this connection gets deltas, not the full list. */
  presenceDeltas = false;
  /** Its place in the registry's list of connections (Connections: a link costs less than a Set entry). */
  linkPrev: Connection | null = null;
  linkNext: Connection | null = null;

  constructor(
    private readonly gw: GatewayContext,
    readonly connId: string,
    readonly remote: string,
    private readonly origin: string | undefined,
    private readonly registry: ConnectionRegistry,
  ) {}

  /** Past its hello-ok (a token rotation closes these; sockets still in their handshake meet the new token). */
  get isOpen(): boolean {
    return this.state === "open";
  }

  /** The runtime accepted the socket. */
  onOpen(sock: WireSocket): void {
    this.sock = sock;
    if (!this.registry.admit(this)) {
      this.state = "closed";
      const max = this.gw.config.gateway.maxPendingHandshakes;
      this.gw.log.warn("refused a socket: too many pending handshakes", { remote: this.remote, max });
      sock.close(CloseCode.TOO_MANY_HANDSHAKES, "too many pending handshakes; retry shortly");
      return;
    }
    // A hello is handled the moment it arrives, so the wait for the first frame is the whole
    // handshake: a shorter firstFrameTimeoutMs frees a silent socket's slot sooner.
    const { handshakeTimeoutMs: hello, firstFrameTimeoutMs: first } = this.gw.config.gateway;
    const [ms, what] = first < hello ? [first, "first frame"] : [hello, "hello"];
    this.handshakeTimer = setTimeout(() => this.close(CloseCode.HANDSHAKE_TIMEOUT, `no ${what} within ${ms} ms`), ms);
    this.gw.log.debug("socket opened", { connId: this.connId, remote: this.remote });
  }

  /** A frame arrived from the client: text, or binary holding UTF-8 JSON. */
  onMessage(data: unknown): void {
    if (this.state === "closed") return;
    const { maxPayload } = this.gw.config.gateway;
    const limit = this.state === "handshake" ? Math.min(maxPayload, PRE_AUTH_MAX_BYTES) : maxPayload;
    const decoded = decodeFrame(data, limit);
    if (!decoded.ok) return this.close(decoded.code, decoded.reason);
    if (this.state === "handshake") return this.onHello(decoded.frame);
    this.onFrame(decoded.frame);
  }

  /** The socket closed (either side). Idempotent. */
  onClose(code: number, reason: string): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    this.gw.metrics.disconnected(wasOpen ? this.client.mode : undefined, code === CloseCode.SLOW_CONSUMER);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.gw.broadcaster.remove(this);
    this.pendingList = null;
    if (wasOpen) {
      const why =
        code === CloseCode.SLOW_CONSUMER ? "slow-consumer" : code === CloseCode.GOING_AWAY ? "shutdown" : "disconnect";
      this.gw.presence.release(this.instanceId, why);
      this.gw.log.debug("client disconnected", { connId: this.connId, code, reason, instanceId: this.instanceId });
      this.gw.clientStats.left += 1;
    }
    this.registry.gone(this);
  }

  /** Close with a documented code; cleanup runs at once, not on the runtime's schedule. */
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.gw.log.debug("closing connection", { connId: this.connId, code, reason });
    try {
      this.sock?.close(code, clipReason(reason));
    } catch {}
    this.onClose(code, reason);
  }

  sendEvent(prefix: string, opts: SendOptions): boolean {
    if (this.state !== "open") return false;
    // A waiting list is older than this event: it goes first, so cursors stay in order.
    if (this.pendingList !== null && opts.seq) this.sendList();
    // Number the event even if it is dropped: the gap tells the client to refresh.
    const frame = opts.seq ? `${prefix},"seq":${++this.seq}}` : `${prefix}}`;
    return this.write(frame, opts.droppable, opts.budget);
  }

  offerList(prefix: string): void {
    if (this.state === "open") this.pendingList = prefix;
  }

  flushList(): boolean {
    if (this.pendingList === null || this.state !== "open") return true;
    if ((this.sock?.bufferedAmount() ?? 0) > 0) return false;
    this.sendList();
    return true;
  }

  private sendList(): void {
    const prefix = this.pendingList!;
    this.pendingList = null;
    this.write(`${prefix},"seq":${++this.seq}}`, false);
  }

  private write(frame: string, droppable: boolean, budget?: SendBudget): boolean {
    const sock = this.sock;
    if (!sock) return false;
    const { maxBufferedBytes } = this.gw.config.gateway;
    const buffered = sock.bufferedAmount();
    if (buffered > maxBufferedBytes) {
      this.close(CloseCode.SLOW_CONSUMER, `slow consumer: ${buffered} bytes unread (max ${maxBufferedBytes})`);
      return false;
    }
    if (droppable && buffered > maxBufferedBytes / 2) return false;
    if (budget && budget.used + buffered > budget.limit) return false;
    try {
      sock.send(frame);
    } catch (err) {
      this.gw.log.debug("send failed", { connId: this.connId, error: String(err) });
      return false;
    }
    this.gw.reclaim.note(frame.length);
    // What the runtime really holds for this client now, in bytes (what went on to the
    // kernel costs this process nothing).
    if (budget) budget.used += sock.bufferedAmount();
    return true;
  }

  private onHello(frame: unknown): void {
    const { gw } = this;
    const result = handshake(frame, {
      remote: this.remote,
      token: gw.config.gateway.token,
      shuttingDown: gw.shuttingDown(),
      limiter: {
        retryAfter: () => gw.authLimiter.retryAfter(this.remote, this.origin),
        fail: () => gw.authLimiter.fail(this.remote, this.origin),
      },
    });
    if (!result.ok) return result.helloError ? this.helloError(result.helloError, result.code) : this.close(result.code, result.reason);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.presenceDeltas = result.presenceDeltas;
    this.accept(result.hello, result.protocol);
  }

  private helloError(frame: HelloError, code: number): void {
    this.gw.log.info("hello refused", { connId: this.connId, remote: this.remote, reason: frame.reason, message: frame.message });
    this.gw.metrics.handshake(frame.reason);
    this.write(JSON.stringify(frame), false);
    this.close(code, frame.message);
  }

  private accept(hello: Hello, protocol: number): void {
    const gw = this.gw;
    const client = keptClient(hello.client);
    // No instanceId (older clients): one stable id for this connection.
    const instanceId = client.instanceId ?? `conn-${this.connId}`;
    this.instanceId = instanceId;
    this.client = client;
    gw.presence.upsert(connectEntry(client, this.remote, instanceId), true);
    const helloOk = helloOkFrame(gw, this.connId, protocol);
    const resumeFrom = hello.resume?.cursor;
    const resumed = resumeFrom !== undefined ? gw.journal.since(resumeFrom, this.presenceDeltas) : null;
    if (resumed) {
      helloOk.resume = resumed.ok ? { ok: true, replayed: resumed.entries.length } : { ok: false, reason: resumed.reason };
    }
    this.state = "open";
    this.registry.settled?.(this);
    this.write(helloOkJson(helloOk, gw.presence.listJson()), false);
    // Missed events first, in order, numbered on with this connection's seq; all in this
    // same turn of the event loop, so no live event can come between them.
    if (resumed?.ok) for (const prefix of resumed.entries) this.sendEvent(prefix, { seq: true, droppable: false });
    // Only now: no live event may reach a client before its hello-ok (and its replay).
    gw.broadcaster.add(this);
    gw.clientStats.joined += 1;
    gw.metrics.handshake("ok");
    startMarkOnce("first hello-ok written");
    gw.metrics.connected(client.mode);
    gw.log.debug("client connected", {
      connId: this.connId,
      remote: this.remote,
      client: `${client.name}/${client.version}`,
      mode: client.mode,
      instanceId,
    });
  }

  private onFrame(frame: unknown): void {
    const type = typeof frame === "object" && frame !== null ? (frame as { type?: unknown }).type : undefined;
    if (type === "hello") return this.close(CloseCode.PROTOCOL_ERROR, "hello already completed on this connection");
    if (type !== "req") return this.close(CloseCode.PROTOCOL_ERROR, `unknown frame type ${JSON.stringify(type)}`);
    const req = frame as { id: string; method: string; params?: unknown };
    if (isPlainReq(frame)) return this.dispatch(req.id, req.method, req.params);
    const parsed = v.safeParse(ReqSchema, frame);
    if (!parsed.success) {
      const id = (frame as { id?: unknown }).id;
      if (typeof id !== "string" || id.length === 0 || id.length > 128) {
        return this.close(CloseCode.PROTOCOL_ERROR, "req frame needs a string id (1–128 chars)");
      }
      const issue = describeIssue(parsed.issues[0], "req");
      return this.respondError(id, new GatewayError("INVALID_REQUEST", `invalid req: ${issue.text}`, { details: { field: issue.field } }));
    }
    this.dispatch(parsed.output.id, parsed.output.method, parsed.output.params);
  }

  private dispatch(id: string, method: string, params: unknown): void {
    const gw = this.gw;
    if (gw.shuttingDown()) {
      return this.respondError(id, new GatewayError("UNAVAILABLE", "gateway is shutting down", { retryable: true }));
    }
    if (this.inFlight >= MAX_IN_FLIGHT) {
      const message = `too many requests in flight on this connection (max ${MAX_IN_FLIGHT})`;
      return this.respondError(id, new GatewayError("UNAVAILABLE", message, { retryable: true, retryAfterMs: 100 }));
    }
    if (gw.log.debugEnabled) gw.log.debug("req", { connId: this.connId, id, method });
    const t0 = performance.now();
    let result: unknown;
    try {
      result = invoke(method, params, { gw, caller: this, ack: (ackPayload) => this.respond(id, ackPayload) });
    } catch (err) {
      // Unknown method names are client text: counted under one label so they cannot grow the series.
      gw.metrics.request(err instanceof GatewayError && (err.details as { field?: string } | undefined)?.field === "method" ? "unknown" : method, false, t0);
      return this.respondError(id, failureOf(gw, this.connId, method, err));
    }
    // Synchronous methods answer in the same turn: no promise, no microtask.
    if (!(result instanceof Promise)) {
      this.respond(id, result);
      return gw.metrics.request(method, true, t0);
    }
    this.inFlight += 1;
    result.then(
      (payload) => (this.respond(id, payload), gw.metrics.request(method, true, t0)),
      (err) => (this.respondError(id, failureOf(gw, this.connId, method, err)), gw.metrics.request(method, false, t0)),
    ).finally(() => {
      this.inFlight -= 1;
    });
  }

  private respond(id: string, payload: unknown): void {
    if (this.gw.log.debugEnabled) this.gw.log.debug("res", { connId: this.connId, id, ok: true });
    const json = payload instanceof JsonText ? payload.json : JSON.stringify(payload ?? null);
    this.write(`{"type":"res","id":${JSON.stringify(id)},"ok":true,"payload":${json}}`, false);
  }

  private respondError(id: string, err: GatewayError): void {
    if (this.gw.log.debugEnabled) this.gw.log.debug("res", { connId: this.connId, id, ok: false, code: err.code });
    this.write(JSON.stringify({ type: "res", id, ok: false, error: err.toShape() }), false);
  }
}
