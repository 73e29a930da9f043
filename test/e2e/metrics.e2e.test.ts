/** Issue 17 §2: GET /metrics on the gateway port, through the compiled binary. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat, { type ParsedFamily } from "parse-prometheus-text-format";
import { get as httpGet } from "node:http";
import { TestClient, helloFrame } from "../helpers/client.ts";
import { startFakeBotApi } from "../helpers/fake-bot-api.ts";
import { spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const TOKEN = "metrics-token-3a9f";

async function scrape(port: number, token?: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/** A sample straight from the text (the parser folds histogram series together, dropping their labels). */
function line(text: string, series: string): number {
  const l = text.split("\n").find((x) => x.startsWith(`${series} `));
  return l ? Number(l.slice(series.length + 1)) : 0;
}

/** One sample's value: a family by name, then the series whose labels include `labels`. */
function sample(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number {
  const fam = families.find((f) => f.name === name);
  const m = fam?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  if (!m) return 0;
  return Number(m.value ?? m.count);
}

describe("GET /metrics with a token configured", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await spawnGateway({ target, config: { gateway: { token: TOKEN }, webchat: { enabled: false } } });
  });
  afterAll(async () => {
    await gw.stop();
  });

  test("401 without the token or with a wrong one; the body never echoes it", async () => {
    const none = await scrape(gw.port);
    expect(none.status).toBe(401);
    const wrong = await scrape(gw.port, "not-the-token");
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain(TOKEN);
  });

  test("with the token: exposition 0.0.4 that a Prometheus parser accepts, every metric the issue lists", async () => {
    const res = await scrape(gw.port, TOKEN);
    expect(res.status).toBe(200);
    expect(res.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    const families = parsePrometheusTextFormat(res.text);
    const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
    expect(types).toMatchObject({
      clawdis_build_info: "GAUGE",
      clawdis_uptime_seconds: "GAUGE",
      clawdis_connections: "GAUGE",
      clawdis_handshakes_total: "COUNTER",
      clawdis_requests_total: "COUNTER",
      clawdis_request_duration_seconds: "HISTOGRAM",
      clawdis_events_sent_total: "COUNTER",
      clawdis_events_dropped_total: "COUNTER",
      clawdis_slow_consumer_closes_total: "COUNTER",
      clawdis_agent_runs_total: "COUNTER",
      clawdis_agent_run_duration_seconds: "HISTOGRAM",
      clawdis_messages_total: "COUNTER",
      clawdis_provider_connected: "GAUGE",
      clawdis_send_queue_length: "GAUGE",
      process_resident_memory_bytes: "GAUGE",
      process_cpu_seconds_total: "COUNTER",
    });
    const build = families.find((f) => f.name === "clawdis_build_info")!.metrics[0]!;
    expect(build.labels).toMatchObject({ version: expect.any(String), commit: expect.any(String), runtime: target === "node" ? "node" : target === "deno" ? "deno" : "bun" });
    expect(sample(families, "clawdis_provider_connected", { provider: "whatsapp" })).toBe(0);
    expect(sample(families, "clawdis_send_queue_length", { provider: "telegram" })).toBe(0);
  });

  test("counters move with traffic: handshakes, requests and their durations, events, agent runs", async () => {
    const beforeText = (await scrape(gw.port, TOKEN)).text;
    const before = parsePrometheusTextFormat(beforeText);
    const { c } = await TestClient.connect(gw.url, { auth: { token: TOKEN } });
    const bad = await TestClient.open(gw.url);
    bad.send(helloFrame({ auth: { token: "wrong" } }));
    await bad.closed;
    for (let i = 0; i < 5; i++) expect((await c.request("health")).ok).toBe(true);
    expect((await c.request("no.such.method")).ok).toBe(false);
    const run = await c.request("agent", { message: "count me", idempotencyKey: crypto.randomUUID() });
    await c.next((f) => f.type === "res" && f.id === run.id && f.payload?.status === "ok", 10_000);

    const afterText = (await scrape(gw.port, TOKEN)).text;
    const after = parsePrometheusTextFormat(afterText);
    const lineDelta = (series: string) => line(afterText, series) - line(beforeText, series);
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta("clawdis_handshakes_total", { result: "ok" })).toBe(1);
    expect(delta("clawdis_handshakes_total", { result: "unauthorized" })).toBe(1);
    expect(delta("clawdis_requests_total", { method: "health", ok: "true" })).toBe(5);
    expect(delta("clawdis_requests_total", { method: "unknown", ok: "false" })).toBe(1);
    expect(lineDelta('clawdis_request_duration_seconds_count{method="health"}')).toBe(5);
    expect(lineDelta('clawdis_request_duration_seconds_bucket{method="health",le="+Inf"}')).toBe(5);
    expect(delta("clawdis_agent_runs_total", { status: "ok" })).toBe(1);
    expect(lineDelta("clawdis_agent_run_duration_seconds_count")).toBe(1);
    expect(delta("clawdis_events_sent_total", { event: "agent" })).toBeGreaterThanOrEqual(3);
    expect(sample(after, "clawdis_connections", { mode: "cli" })).toBe(1);
    c.close();
    await c.closed;
    // The gauge follows the close.
    const deadline = Date.now() + 3_000;
    let now = 1;
    while (Date.now() < deadline && (now = sample(parsePrometheusTextFormat((await scrape(gw.port, TOKEN)).text), "clawdis_connections", { mode: "cli" })) !== 0) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(now).toBe(0);
  });

  test("a rotated token opens /metrics at once and the old one no longer does", async () => {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${gw.stateDir}/clawdis.json`, JSON.stringify({ gateway: { token: `${TOKEN}-2` }, webchat: { enabled: false } }));
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline && (await scrape(gw.port, `${TOKEN}-2`)).status !== 200) await new Promise((r) => setTimeout(r, 25));
    expect((await scrape(gw.port, `${TOKEN}-2`)).status).toBe(200);
    expect((await scrape(gw.port, TOKEN)).status).toBe(401);
  });
});

/** GET /metrics from 127.0.0.1 with the Host header a browser would send for `host`. */
function scrapeAs(port: number, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: "127.0.0.1", port, path: "/metrics", headers: { Host: host } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
  });
}

describe("GET /metrics without a token", () => {
  test("answers loopback callers that address it by a loopback name; a DNS-rebound name gets 403", async () => {
    const gw = await spawnGateway({ target, config: { webchat: { enabled: false } } });
    try {
      const res = await scrape(gw.port);
      expect(res.status).toBe(200);
      expect(parsePrometheusTextFormat(res.text).some((f) => f.name === "clawdis_uptime_seconds")).toBe(true);
      for (const host of [`localhost:${gw.port}`, `[::1]:${gw.port}`, "127.0.0.1"]) expect((await scrapeAs(gw.port, host)).status).toBe(200);
      // Another site's page whose name now resolves to 127.0.0.1: same socket, its own Host.
      for (const host of [`evil.example:${gw.port}`, "evil.example", `127.0.0.1.evil.example:${gw.port}`]) {
        const refused = await scrapeAs(gw.port, host);
        expect(refused.status).toBe(403);
        expect(refused.text).toContain("Host");
        expect(refused.text).not.toContain("clawdis_uptime_seconds");
      }
    } finally {
      await gw.stop();
    }
  });
});

describe("clawdis_send_queue_length follows the delivery queue", () => {
  test("reads > 0 while a paced send waits, and 0 once it went out (fake Bot API)", async () => {
    const bot = startFakeBotApi();
    // A gap of 2 s per chat: the second send to the same chat waits in the queue.
    const telegram = { apiRoot: bot.apiRoot, pollTimeoutS: 1, pacing: { perChatMinIntervalMs: 2_000, jitterMs: 0 } };
    const gw = await spawnGateway({ target, config: { webchat: { enabled: false }, telegram }, env: { TELEGRAM_BOT_TOKEN: bot.token } });
    const queued = async () => sample(parsePrometheusTextFormat((await scrape(gw.port)).text), "clawdis_send_queue_length", { provider: "telegram" });
    try {
      const { c } = await TestClient.connect(gw.url);
      const send = (message: string) => c.request("send", { provider: "telegram", to: "4242", message, idempotencyKey: crypto.randomUUID() });
      expect((await send("first")).ok).toBe(true);
      const second = send("second");
      let seen = 0;
      const deadline = Date.now() + 1_500;
      while (Date.now() < deadline && (seen = await queued()) === 0) await new Promise((r) => setTimeout(r, 20));
      expect(seen).toBeGreaterThan(0);
      expect(bot.sent().some((x) => x.params.text === "second")).toBe(false);
      expect((await second).ok).toBe(true);
      expect(bot.sent().some((x) => x.params.text === "second")).toBe(true);
      expect(await queued()).toBe(0);
      c.close();
    } finally {
      await gw.stop();
      bot.stop();
    }
  });
});
