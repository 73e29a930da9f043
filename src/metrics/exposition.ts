import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from "prom-client";
import type { GatewayCounters, PlainHistogram } from "./counters.ts";

/** What the scrape reads besides the counters: state that is cheaper to look at than to count. */
export interface MetricsSources {
  counters: GatewayCounters;
  build: { version: string; commit: string; runtime: string };
  startedAt: number;
  providerConnected(provider: string): boolean;
  /** Messages waiting in a provider's pacing queue (0 while there is no such queue). */
  sendQueueLength(provider: string): number;
  providers: readonly string[];
}

type Labels = Record<string, string>;

function split(key: string, names: readonly string[]): Labels {
  const parts = key.split("\u0000");
  return Object.fromEntries(names.map((n, i) => [n, parts[i] ?? ""]));
}

/**
 * A histogram whose observations were counted elsewhere (plain arrays on the hot path):
 * prom-client writes the text from `get()`, as it does for its own Histogram.
 */
class HistogramView {
  readonly type = "histogram";
  readonly aggregator = "sum";
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly series: () => Iterable<[Labels, PlainHistogram]>,
  ) {}
  collect(): void {}
  get() {
    const values: { labels: Labels; value: number; metricName: string }[] = [];
    for (const [labels, h] of this.series()) {
      let cumulative = 0;
      h.bounds.forEach((le, i) => {
        cumulative += h.counts[i]!;
        values.push({ labels: { ...labels, le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...labels, le: "+Inf" }, value: h.count, metricName: `${this.name}_bucket` });
      values.push({ labels, value: h.sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: h.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** The registry behind `GET /metrics`: exposition format 0.0.4, written by prom-client. */
export function createRegistry(src: MetricsSources): Registry {
  const registry = new Registry();
  const c = src.counters;
  const registers = [registry];
  type Read = () => Iterable<[Labels, number]>;
  // Each family copies the plain numbers at scrape time (reset, then inc/set keeps prom-client's own types).
  const copy = (m: { reset(): void }, put: (labels: Labels, value: number) => void, read: Read) => {
    m.reset();
    for (const [labels, value] of read()) put(labels, value);
  };
  const counter = (name: string, help: string, labelNames: string[], read: Read) =>
    new Counter({ name, help, labelNames, registers, collect() { copy(this, (l, v) => this.inc(l, v), read); } });
  const gauge = (name: string, help: string, labelNames: string[], read: Read) =>
    new Gauge({ name, help, labelNames, registers, collect() { copy(this, (l, v) => this.set(l, v), read); } });
  const fromMap = (map: Map<string, number>, names: string[]) => () =>
    [...map].map(([k, v]): [Labels, number] => [split(k, names), v]);

  gauge("clawdis_build_info", "Version, commit and runtime of this gateway (always 1).", ["version", "commit", "runtime"], () => [
    [src.build, 1],
  ]);
  gauge("clawdis_uptime_seconds", "Seconds since the gateway started.", [], () => [[{}, (Date.now() - src.startedAt) / 1000]]);
  gauge("clawdis_connections", "Connected clients (past hello-ok) by client mode.", ["mode"], fromMap(c.connections, ["mode"]));
  counter("clawdis_handshakes_total", "Handshakes by result: ok or the hello-error reason.", ["result"], fromMap(c.handshakes, ["result"]));
  counter("clawdis_requests_total", "Requests answered, by method and outcome.", ["method", "ok"], () =>
    [...c.requests].flatMap(([method, r]): [Labels, number][] => [
      [{ method, ok: "true" }, r.ok],
      [{ method, ok: "false" }, r.failed],
    ]),
  );
  registry.registerMetric(
    new HistogramView("clawdis_request_duration_seconds", "Time from request to (final) response, by method.", () =>
      [...c.requests].map(([method, r]): [Labels, PlainHistogram] => [{ method }, r.duration]),
    ) as unknown as Metric,
  );
  counter("clawdis_events_sent_total", "Event frames queued to clients, by event.", ["event"], fromMap(c.eventsSent, ["event"]));
  counter("clawdis_events_dropped_total", "Event frames a client did not get, by reason.", ["reason"], fromMap(c.eventsDropped, ["reason"]));
  counter("clawdis_slow_consumer_closes_total", "Connections closed (1008) for not reading.", [], () => [[{}, c.slowConsumerCloses]]);
  counter("clawdis_agent_runs_total", "Agent runs finished, by status.", ["status"], fromMap(c.agentRuns, ["status"]));
  registry.registerMetric(
    new HistogramView("clawdis_agent_run_duration_seconds", "Agent run time, from start of execution to its end.", () => [[{}, c.agentDuration]]) as unknown as Metric,
  );
  counter("clawdis_tool_calls_total", "Agent tool calls (MCP) by server, tool and outcome.", ["server", "tool", "ok"], fromMap(c.toolCalls, ["server", "tool", "ok"]));
  registry.registerMetric(
    new HistogramView("clawdis_tool_call_duration_seconds", "Agent tool call time, by server and tool.", () =>
      [...c.toolDuration].map(([key, h]): [Labels, PlainHistogram] => [split(key, ["server", "tool"]), h]),
    ) as unknown as Metric,
  );
  counter(
    "clawdis_messages_total",
    "Ledger transitions: messages reaching each status, by provider and direction.",
    ["provider", "direction", "status"],
    fromMap(c.messages, ["provider", "direction", "status"]),
  );
  gauge("clawdis_provider_connected", "1 when the provider's connection is up.", ["provider"], () =>
    src.providers.map((p): [Labels, number] => [{ provider: p }, src.providerConnected(p) ? 1 : 0]),
  );
  gauge("clawdis_send_queue_length", "Outbound messages waiting in the provider's pacing queue.", ["provider"], () =>
    src.providers.map((p): [Labels, number] => [{ provider: p }, src.sendQueueLength(p)]),
  );
  // Process CPU, memory, file descriptors, event loop lag: prom-client's standard set.
  collectDefaultMetrics({ register: registry });
  return registry;
}
