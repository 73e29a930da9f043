import type { AgentEvent, LedgerRecord } from "../protocol/index.ts";

/** Upper bounds (s) of request duration buckets: most methods answer in well under a millisecond. */
export const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Upper bounds (s) of tool call duration buckets. */
export const TOOL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** Upper bounds (s) of agent run duration buckets. */
export const AGENT_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** Observations kept as plain numbers: one array slot per bucket, no allocation per observation. */
export class PlainHistogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(seconds: number): void {
    this.sum += seconds;
    this.count += 1;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (seconds <= b[i]!) {
        this.counts[i]! += 1;
        return;
      }
    }
  }
}

/** Bounds on label values a client can influence: method names are checked before counting. */
const MAX_SERIES = 256;

/** Past MAX_SERIES keys a new one is counted under `overflow` (a key of the same shape as the others). */
function bump(map: Map<string, number>, key: string, by = 1, overflow = "other"): void {
  if (map.size >= MAX_SERIES && !map.has(key)) key = overflow;
  map.set(key, (map.get(key) ?? 0) + by);
}

/**
 * The gateway's counters. Everything on the hot path is a Map increment or an array slot;
 * the Prometheus text is built from these only when `/metrics` is scraped.
 */
export class GatewayCounters {
  readonly connections = new Map<string, number>();
  readonly handshakes = new Map<string, number>();
  /** Per method: answers by outcome and their durations (one Map lookup per request, no string building). */
  readonly requests = new Map<string, { ok: number; failed: number; duration: PlainHistogram }>();
  readonly eventsSent = new Map<string, number>();
  readonly eventsDropped = new Map<string, number>();
  slowConsumerCloses = 0;
  readonly agentRuns = new Map<string, number>();
  readonly agentDuration = new PlainHistogram(AGENT_BUCKETS);
  /** `${server}\u0000${tool}\u0000${ok}` → count (tool names come from MCP servers: bounded like the rest). */
  readonly toolCalls = new Map<string, number>();
  /** `${server}\u0000${tool}` → durations. */
  readonly toolDuration = new Map<string, PlainHistogram>();
  /** `${provider}\u0000${direction}\u0000${status}` → count */
  readonly messages = new Map<string, number>();
  /** Runs started and not yet ended: runId → start time (bounded by the runner's concurrency). */
  private readonly runStarts = new Map<string, { at: number; failed: boolean }>();

  connected(mode: string): void {
    bump(this.connections, mode);
  }

  disconnected(mode: string | undefined, slowConsumer: boolean): void {
    if (slowConsumer) this.slowConsumerCloses += 1;
    if (mode !== undefined) bump(this.connections, mode, -1);
  }

  handshake(result: string): void {
    bump(this.handshakes, result);
  }

  /** A request answered; `startedAt` is the `performance.now()` at dispatch. */
  request(method: string, ok: boolean, startedAt: number): void {
    let r = this.requests.get(method);
    if (r === undefined) {
      if (this.requests.size >= MAX_SERIES) method = "other";
      r = this.requests.get(method) ?? { ok: 0, failed: 0, duration: new PlainHistogram(REQUEST_BUCKETS) };
      this.requests.set(method, r);
    }
    if (ok) r.ok += 1;
    else r.failed += 1;
    r.duration.observe((performance.now() - startedAt) / 1000);
  }

  /** One broadcast: how many clients got the event and how many did not. */
  broadcast(event: string, sent: number, missed: number, droppable: boolean): void {
    if (sent > 0) bump(this.eventsSent, event, sent);
    if (missed > 0) bump(this.eventsDropped, droppable ? "backpressure" : "closed-or-slow", missed);
  }

  /** Agent lifecycle events give run counts and durations without touching the runner. */
  agentEvent(ev: AgentEvent): void {
    if (ev.stream === "tool") return this.toolEvent(ev.data);
    if (ev.stream === "error") {
      const run = this.runStarts.get(ev.runId);
      if (run) run.failed = true;
      return;
    }
    if (ev.stream !== "lifecycle") return;
    const data = ev.data as { phase?: string; code?: string; reason?: string } | null;
    if (data?.phase === "start") {
      this.runStarts.set(ev.runId, { at: ev.ts, failed: false });
      return;
    }
    if (data?.phase !== "end" && data?.phase !== "error") return;
    const run = this.runStarts.get(ev.runId);
    this.runStarts.delete(ev.runId);
    const status =
      data.phase === "end"
        ? run?.failed
          ? "error"
          : "ok"
        : data.code === "AGENT_TIMEOUT"
          ? "timeout"
          : data.reason === "shutdown"
            ? "aborted"
            : "error";
    bump(this.agentRuns, status);
    if (run) this.agentDuration.observe(Math.max(0, ev.ts - run.at) / 1000);
  }

  /** A tool call's result event (`name` is `<server>__<tool>`): one count and one duration. */
  private toolEvent(data: unknown): void {
    const d = data as { phase?: string; name?: unknown; ok?: unknown; ms?: unknown } | null;
    if (d?.phase !== "result" || typeof d.name !== "string") return;
    // The name is the model's: one it made up (no `<server>__` prefix) is counted as "unknown", and
    // names are cut short, so a model cannot grow the series with names of its own.
    const cut = d.name.indexOf("__");
    const server = cut > 0 ? d.name.slice(0, Math.min(cut, 64)) : "";
    const tool = cut > 0 ? d.name.slice(cut + 2, cut + 2 + 64) : "unknown";
    bump(this.toolCalls, `${server}\u0000${tool}\u0000${d.ok === true}`, 1, `other\u0000other\u0000${d.ok === true}`);
    let key = `${server}\u0000${tool}`;
    if (this.toolDuration.size >= MAX_SERIES && !this.toolDuration.has(key)) key = "other\u0000other";
    let h = this.toolDuration.get(key);
    if (!h) this.toolDuration.set(key, (h = new PlainHistogram(TOOL_BUCKETS)));
    if (typeof d.ms === "number") h.observe(d.ms / 1000);
  }

  /** A ledger record was created or changed status. */
  message(r: Pick<LedgerRecord, "provider" | "direction" | "status">): void {
    bump(this.messages, `${r.provider}\u0000${r.direction}\u0000${r.status}`);
  }
}
