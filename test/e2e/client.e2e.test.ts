/** GatewayClient against real gateways: two-stage agent, timeouts, reconnect, gaps, dead links. */
import { lossyWebSocket } from "../helpers/sockets.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { GatewayClient, GatewayClientError } from "../../src/client/index.ts";
import { createGateway } from "../../src/gateway/server.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import * as v from "valibot";
import { spawnGateway, tempStateDir, type RunningGateway } from "../helpers/gateway.ts";
import { TestClient } from "../helpers/client.ts";

const fastConfig = { gateway: { tickIntervalMs: 200, presenceCoalesceMs: 5 } };

function client(url: string, extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) {
  return new GatewayClient({ url, client: { name: "client-test", version: "1", mode: "test" }, ...extra });
}

async function until(cond: () => boolean, timeoutMs = 5_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

describe("GatewayClient: requests and the two-stage agent", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await spawnGateway({ config: fastConfig });
  });
  afterAll(async () => {
    await gw.stop();
  });

  test("exposes the hello-ok snapshot and policy; typed requests resolve with payloads", async () => {
    const c = client(gw.url);
    const hello = await c.connect();
    expect(hello.policy.tickIntervalMs).toBe(200);
    expect(c.health?.ok).toBe(true);
    expect([...c.presence.values()].some((e) => e.mode === "gateway")).toBe(true);
    const status = await c.request("status");
    expect(status.clients).toBeGreaterThanOrEqual(1);
    c.close();
  });

  test("agent: the ack gives the runId, events stream to the callback, the final resolves", async () => {
    const c = client(gw.url);
    await c.connect();
    let accepted = "";
    const deltas: string[] = [];
    const final = await c.agent(
      { message: "stream this reply please", idempotencyKey: crypto.randomUUID() },
      { onAccepted: (id) => (accepted = id), onEvent: (e) => e.stream === "assistant" && deltas.push((e.data as any).delta) },
    );
    expect(final.runId).toBe(accepted);
    expect(final.status).toBe("ok");
    expect(deltas.join("")).toBe("stream this reply please");
    c.close();
  });

  test("a gateway error rejects with kind remote and the wire code", async () => {
    const c = client(gw.url);
    await c.connect();
    const err = (await c.request("send", { to: "x", message: "y", idempotencyKey: "k" }).catch((e) => e)) as GatewayClientError;
    expect(err).toBeInstanceOf(GatewayClientError);
    expect(err.kind).toBe("remote");
    expect(err.detail.code).toBe("NOT_LINKED");
    c.close();
  });

  test("a request the gateway does not answer in time rejects with kind timeout", async () => {
    const c = client(gw.url, { reconnect: false });
    await c.connect();
    gw.proc.kill("SIGSTOP");
    try {
      const err = (await c.request("health", undefined, { timeoutMs: 200 }).catch((e) => e)) as GatewayClientError;
      expect(err.kind).toBe("timeout");
      expect(err.message).toContain("200 ms");
    } finally {
      gw.proc.kill("SIGCONT");
    }
    c.close();
  });

  test("a refused handshake rejects with kind handshake and the hello-error", async () => {
    const g = await spawnGateway({ config: { gateway: { token: "right" } } });
    const c = client(g.url, { token: "wrong" });
    const err = (await c.connect().catch((e) => e)) as GatewayClientError;
    expect(err.kind).toBe("handshake");
    expect(err.detail.helloError?.reason).toBe("unauthorized");
    await g.stop();
  });

  test("nothing listening rejects with kind connect", async () => {
    const c = client("ws://127.0.0.1:1");
    const err = (await c.connect().catch((e) => e)) as GatewayClientError;
    expect(err.kind).toBe("connect");
  });
});

describe("GatewayClient: reconnect", () => {
  test("after a gateway restart it reconnects; pending requests were rejected with kind closed", async () => {
    const stateDir = tempStateDir(fastConfig);
    const g1 = await spawnGateway({ stateDir });
    const hellos: string[] = [];
    const states: string[] = [];
    const c = client(g1.url, {
      backoff: { initialMs: 100, maxMs: 400 },
      onHello: (h) => hellos.push(h.server.connId),
      onStateChange: (s) => states.push(s),
    });
    await c.connect();
    g1.proc.kill("SIGSTOP");
    const pending = c.request("health", undefined, { timeoutMs: 10_000 }).catch((e) => e);
    g1.proc.kill("SIGKILL");
    g1.proc.kill("SIGCONT");
    const err = (await pending) as GatewayClientError;
    expect(err.kind).toBe("closed");
    expect(c.state).toBe("reconnecting");
    // As a supervisor restarts it: after the dead process is reaped (until then its pid still
    // answers kill(pid, 0), and the new gateway rightly sees the lock as held).
    await g1.exited;
    const g2 = await spawnGateway({ stateDir, args: ["--port", String(g1.port)] });
    await until(() => hellos.length === 2, 8_000, "the second hello-ok");
    expect(hellos[1]).not.toBe(hellos[0]);
    expect(c.state).toBe("open");
    expect((await c.request("health")).ok).toBe(true);
    expect(states).toContain("reconnecting");
    c.close();
    await g2.stop();
  }, 20_000);

  test("the shutdown event's restartExpectedMs sets the reconnect delay (not the backoff)", async () => {
    const config = v.parse(ConfigSchema, { gateway: { port: 0 } });
    const dir = tempStateDir();
    const g1 = createGateway({ config, stateDir: dir, lock: false });
    const { port } = await g1.start();
    const hellos: number[] = [];
    // A 10 s backoff: only the hint can bring it back within a second.
    const c = client(`ws://127.0.0.1:${port}`, { backoff: { initialMs: 10_000, maxMs: 10_000 }, onHello: () => hellos.push(Date.now()) });
    await c.connect();
    const stoppedAt = Date.now();
    await g1.stop("restart", 300);
    const g2 = createGateway({ config: { ...config, gateway: { ...config.gateway, port } }, stateDir: dir, lock: false });
    await g2.start();
    await until(() => hellos.length === 2, 5_000, "reconnect after restart hint");
    const waited = hellos[1]! - stoppedAt;
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(2_000);
    c.close();
    await g2.stop("test over");
  });

  test("silence longer than 2 × tickIntervalMs is a dead link: it reconnects by itself", async () => {
    const g = await spawnGateway({ config: fastConfig });
    const hellos: string[] = [];
    const c = client(g.url, { backoff: { initialMs: 50, maxMs: 200 }, onHello: (h) => hellos.push(h.server.connId) });
    await c.connect();
    g.proc.kill("SIGSTOP"); // the gateway is alive as a process but says nothing
    await until(() => c.state === "reconnecting", 3_000, "dead-link detection");
    g.proc.kill("SIGCONT");
    await until(() => hellos.length === 2 && c.state === "open", 8_000, "reconnect after the link came back");
    c.close();
    await g.stop();
  }, 15_000);
});

describe("GatewayClient: seq gaps", () => {
  test("a forced gap fires onGap once, and the default refresh makes presence right again", async () => {
    const g = await spawnGateway({ config: fastConfig });
    let dropped = 0;
    const lossy = lossyWebSocket((f) => f.type === "event" && f.event === "presence" && dropped++ === 0);
    const gaps: { expected: number; received: number }[] = [];
    // The default behaviour (refresh), plus a record of the call.
    const watching = new GatewayClient({
      url: g.url,
      WebSocket: lossy,
      client: { mode: "test" },
      onGap: async (gap, self) => {
        gaps.push(gap);
        await self.refresh();
      },
    });
    await watching.connect();
    const { c: other } = await TestClient.connect(g.url, { client: { name: "o", version: "1", platform: "linux", mode: "app", instanceId: "other-1" } });
    // The join of other-1 is the dropped event; the note below arrives with the next seq.
    await Bun.sleep(100);
    await other.request("system-event", { text: "hello" });
    await until(() => gaps.length === 1, 3_000, "gap detection");
    expect(gaps[0]!.received).toBe(gaps[0]!.expected + 1);
    await until(() => watching.presence.get("other-1")?.text === "hello", 3_000, "refreshed presence");
    expect(watching.presence.get("other-1")).toMatchObject({ mode: "app", text: "hello" });
    other.close();
    watching.close();
    await g.stop();
  });

  test("without loss there is no gap", async () => {
    const g = await spawnGateway({ config: fastConfig });
    let gaps = 0;
    const c = new GatewayClient({ url: g.url, client: { mode: "test" }, onGap: () => void gaps++ });
    await c.connect();
    for (let i = 0; i < 5; i++) await c.agent({ message: `run ${i}`, idempotencyKey: crypto.randomUUID() });
    const { c: other } = await TestClient.connect(g.url);
    other.close();
    await Bun.sleep(100);
    expect(gaps).toBe(0);
    c.close();
    await g.stop();
  });
});
