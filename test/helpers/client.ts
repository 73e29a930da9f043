import { assertServerFrame, seenFrameTypes, schemaValidators } from "./schema.ts";

export type Frame = Record<string, any>;

export function helloFrame(over: Record<string, unknown> = {}): Frame {
  return {
    type: "hello",
    minProtocol: 1,
    maxProtocol: 1,
    client: { name: "test", version: "1.0.0", platform: "linux", mode: "cli", instanceId: crypto.randomUUID() },
    // clawdis' own clients announce presence deltas; test/e2e/dropin covers the caps-less runbook clients.
    caps: ["presence-deltas"],
    ...over,
  };
}

/**
 * A raw protocol client for tests: records every frame, checks each against the emitted
 * JSON Schema (and each method's result schema), and lets a test wait for a frame.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void; from: number }[] = [];
  private nextId = 0;
  private methodsById = new Map<string, string>();
  private opened: Promise<void>;
  ws: WebSocket;

  constructor(url: string, headers?: Record<string, string>) {
    this.ws = new WebSocket(url, headers ? ({ headers } as any) : undefined);
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error(`could not open ${url}`));
    });
    this.closed = new Promise((resolve) => {
      this.ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
    });
    this.ws.onmessage = (e) => {
      const frame = JSON.parse(String(e.data)) as Frame;
      assertServerFrame(frame);
      if (frame.type === "res" && frame.ok) this.checkResult(frame);
      seenFrameTypes.set(frame.type, (seenFrameTypes.get(frame.type) ?? 0) + 1);
      this.frames.push(frame);
      for (const w of [...this.waiters]) {
        if (w.pred(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    };
  }

  static async open(url: string, headers?: Record<string, string>): Promise<TestClient> {
    const c = new TestClient(url, headers);
    await c.opened;
    return c;
  }

  /** Open and complete the handshake. */
  static async connect(url: string, hello: Record<string, unknown> = {}): Promise<{ c: TestClient; ok: Frame }> {
    const c = await TestClient.open(url);
    c.send(helloFrame(hello));
    const ok = await c.next((f) => f.type === "hello-ok" || f.type === "hello-error");
    if (ok.type !== "hello-ok") throw new Error(`handshake refused: ${JSON.stringify(ok)}`);
    return { c, ok };
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or future) matching `pred`. */
  next(pred: (f: Frame) => boolean, timeoutMs = 5_000, from = 0): Promise<Frame> {
    const seen = this.frames.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, from };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a frame; last frames ${JSON.stringify(this.frames.slice(-3)).slice(0, 600)}`));
        }
      }, timeoutMs);
    });
  }

  /** Send a request and wait for its (first) res. */
  async request(method: string, params?: unknown, id = `r${++this.nextId}`): Promise<Frame> {
    const from = this.frames.length;
    this.methodsById.set(id, method);
    this.send({ type: "req", id, method, ...(params !== undefined ? { params } : {}) });
    return this.next((f) => f.type === "res" && f.id === id, 5_000, from);
  }

  events(name: string): Frame[] {
    return this.frames.filter((f) => f.type === "event" && f.event === name);
  }

  close(): void {
    this.ws.close();
  }

  private checkResult(frame: Frame): void {
    const method = this.methodsById.get(frame.id);
    if (!method) return;
    const name = method.replace(/(^|[-_.])([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
    const validate = schemaValidators().def(`${name}Result`);
    if (!validate(frame.payload)) {
      throw new Error(`${method} result violates the schema: ${JSON.stringify(validate.errors)}`);
    }
  }
}
