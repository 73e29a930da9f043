import * as v from "valibot";
import { AgentAckSchema, type ErrorShape } from "../protocol/index.ts";
import { GatewayClientError } from "./errors.ts";

type Pending = {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Two-stage methods: the ack goes here, and the promise waits for the final. */
  onAck?: (payload: unknown) => void;
};

const PENDING_LIMIT = 10_000;

/**
 * The request/response half of the protocol: ids, pending requests and their timeouts,
 * matching each `res` to its request (an `agent` ack is recognised by its schema and
 * keeps the request open for the final).
 */
export class Session {
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;

  /** Send one `req` through `send`; resolves with the (final) payload. */
  request(
    send: (frame: string) => void,
    method: string,
    params: unknown,
    timeoutMs: number,
    onAck?: (payload: unknown) => void,
  ): Promise<unknown> {
    if (this.pending.size >= PENDING_LIMIT) {
      return Promise.reject(new GatewayClientError("closed", `too many requests pending (${PENDING_LIMIT})`));
    }
    const id = `c${++this.nextId}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayClientError("timeout", `${method} got no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, ...(onAck ? { onAck } : {}) });
      send(JSON.stringify({ type: "req", id, method, ...(params !== undefined ? { params } : {}) }));
    });
  }

  /** A `res` frame arrived. */
  onRes(frame: Record<string, unknown>): void {
    const id = frame.id as string;
    const p = this.pending.get(id);
    if (!p) return;
    if (frame.ok === true) {
      if (p.onAck && v.is(AgentAckSchema, frame.payload)) return p.onAck(frame.payload);
      this.settle(id, p);
      p.resolve(frame.payload);
    } else {
      this.settle(id, p);
      const error = frame.error as ErrorShape;
      p.reject(new GatewayClientError("remote", `${error.code}: ${error.message}`, { code: error.code, error }));
    }
  }

  /** The link is gone (or the client closed): every pending request fails with `err`. */
  failAll(err: GatewayClientError): void {
    for (const [id, p] of this.pending) {
      this.settle(id, p);
      p.reject(err);
    }
  }

  private settle(id: string, p: Pending): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
  }
}
