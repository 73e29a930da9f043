/** The /metrics door rule off loopback, and counting details, without a gateway process. */
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { GatewayCounters } from "../src/metrics/counters.ts";
import { createRegistry } from "../src/metrics/exposition.ts";
import { mountMetrics } from "../src/metrics/http.ts";
import { AuthLimiter } from "../src/core/auth-limit.ts";

function app(token: string | undefined, remote: string) {
  const counters = new GatewayCounters();
  const registry = createRegistry({
    counters,
    build: { version: "1", commit: "c", runtime: "bun" },
    startedAt: Date.now(),
    providers: ["whatsapp"],
    providerConnected: () => true,
    sendQueueLength: () => 0,
  });
  const a = new Hono();
  const limiter = new AuthLimiter({ maxFailures: 3, windowMs: 60_000 });
  mountMetrics(a, { registry: async () => registry, token: () => token, remoteAddress: () => remote, limiter });
  return { a, counters };
}

describe("Door rule", () => {
  test("without a token, a caller from another host gets 403 and loopback gets the text", async () => {
    expect((await app(undefined, "192.168.1.20").a.request("/metrics")).status).toBe(403);
    expect((await app(undefined, "::ffff:127.0.0.1").a.request("/metrics")).status).toBe(200);
  });
  test("without a token, a loopback caller that names another host (DNS rebinding) gets 403", async () => {
    const { a } = app(undefined, "127.0.0.1");
    expect((await a.request("http://evil.example:18789/metrics", { headers: { Host: "evil.example:18789" } })).status).toBe(403);
    expect((await a.request("http://127.0.0.1:18789/metrics", { headers: { Host: "evil.example" } })).status).toBe(403);
    expect((await a.request("http://127.0.0.1:18789/metrics", { headers: { Host: "[::1]:18789" } })).status).toBe(200);
    expect((await a.request("http://localhost:18789/metrics")).status).toBe(200);
  });
  test("with a token, even loopback needs the Bearer header", async () => {
    const { a } = app("t0k", "127.0.0.1");
    expect((await a.request("/metrics")).status).toBe(401);
    expect((await a.request("/metrics", { headers: { Authorization: "Bearer t0k" } })).status).toBe(200);
  });
});

describe("Counters", () => {
  test("histogram buckets are cumulative and end in +Inf = count; ledger transitions and agent runs are labelled", async () => {
    const { a, counters } = app(undefined, "127.0.0.1");
    const t = performance.now();
    counters.request("health", true, t);
    counters.request("health", true, t - 2_000);
    counters.message({ provider: "telegram", direction: "inbound", status: "received" });
    counters.agentEvent({ runId: "r", seq: 1, stream: "lifecycle", ts: 1_000, data: { phase: "start" } });
    counters.agentEvent({ runId: "r", seq: 2, stream: "lifecycle", ts: 3_000, data: { phase: "error", code: "AGENT_TIMEOUT" } });
    const text = await (await a.request("/metrics")).text();
    const fams = parsePrometheusTextFormat(text);
    expect(text).toContain('clawdis_request_duration_seconds_bucket{method="health",le="0.001"} 1\n');
    expect(text).toContain('clawdis_request_duration_seconds_bucket{method="health",le="2.5"} 2\n');
    expect(text).toContain('clawdis_request_duration_seconds_bucket{method="health",le="+Inf"} 2\n');
    expect(text).toContain('clawdis_request_duration_seconds_count{method="health"} 2\n');
    expect(fams.find((f) => f.name === "clawdis_messages_total")!.metrics[0]).toMatchObject({
      labels: { provider: "telegram", direction: "inbound", status: "received" },
      value: "1",
    });
    expect(fams.find((f) => f.name === "clawdis_agent_runs_total")!.metrics[0]).toMatchObject({ labels: { status: "timeout" }, value: "1" });
    expect(text).toContain("clawdis_agent_run_duration_seconds_sum 2\n");
    expect(text).toContain("clawdis_agent_run_duration_seconds_count 1\n");
  });
});
