/** Agent runs for real: an OpenAI-compatible server over SSE, command backends, sessions, concurrency, idempotency. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const FIXTURES = join(import.meta.dir, "..", "fixtures", "agents");

/** Send an agent request; resolve with ack, final res frame and this run's events. */
async function run(c: TestClient, params: Record<string, unknown>, timeoutMs = 8_000) {
  const id = `a-${crypto.randomUUID()}`;
  const from = c.frames.length;
  c.send({ type: "req", id, method: "agent", params: { idempotencyKey: crypto.randomUUID(), ...params } });
  const ack = await c.next((f) => f.type === "res" && f.id === id, timeoutMs, from);
  if (!ack.ok) return { ack, final: ack, events: [] as any[] };
  const final = await c.next((f) => f.type === "res" && f.id === id && f !== ack, timeoutMs, from);
  const events = c.frames.filter((f) => f.event === "agent" && f.payload.runId === ack.payload.runId);
  return { ack, final, events };
}

describe("openai backend: an OpenAI-compatible server streaming SSE", () => {
  let fake: FakeOpenAi;
  let gw: RunningGateway;
  const stateDir = tempStateDir();
  const config = (model: string) => ({
    agent: { backend: "openai", historyTurns: 2, openai: { baseUrl: "", model, systemPrompt: "be brief" } },
  });
  beforeAll(async () => {
    fake = startFakeOpenAi();
    const cfg = config("good");
    cfg.agent.openai.baseUrl = fake.url;
    await Bun.write(join(stateDir, "clawdis.json"), JSON.stringify(cfg));
    gw = await spawnGateway({ target, stateDir, env: { OPENAI_API_KEY: "sk-test-key" } });
  });
  afterAll(async () => {
    await gw.stop();
    fake.stop();
  });

  test("each streamed delta is an assistant event; the summary is the whole reply", async () => {
    const { c } = await TestClient.connect(gw.url);
    const { final, events } = await run(c, { message: "what is up", sessionId: "s-a" });
    expect(final.payload.status).toBe("ok");
    expect(final.payload.summary).toBe("echo: what is up (2 messages)");
    const deltas = events.filter((e) => e.payload.stream === "assistant").map((e) => e.payload.data.delta);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe(final.payload.summary);
    const req = fake.requests.at(-1)!;
    expect(req.authorization).toBe("Bearer sk-test-key");
    expect(req.body.stream).toBe(true);
    expect(req.body.messages[0]).toEqual({ role: "system", content: "be brief" });
    c.close();
  });

  test("the session's history goes with each request, bounded by historyTurns", async () => {
    const { c } = await TestClient.connect(gw.url);
    for (const m of ["one", "two", "three", "four"]) await run(c, { message: m, sessionId: "s-hist" });
    const msgs = fake.requests.at(-1)!.body.messages.map((m: any) => `${m.role}:${m.content}`);
    // system + 2 past turns (historyTurns: 2) + the new message; "one" fell out of the window.
    expect(msgs[0]).toBe("system:be brief");
    expect(msgs.slice(1, 3)).toEqual(["user:two", expect.stringMatching(/^assistant:echo: two/)]);
    expect(msgs.slice(3, 5)).toEqual(["user:three", expect.stringMatching(/^assistant:echo: three/)]);
    expect(msgs.at(-1)).toBe("user:four");
    expect(msgs.length).toBe(6);
    c.close();
  });

  test("history survives a gateway restart (JSON lines under <state>/sessions)", async () => {
    const { c } = await TestClient.connect(gw.url);
    await run(c, { message: "remember the number 42", sessionId: "s-restart" });
    c.close();
    expect(readdirSync(join(stateDir, "sessions"))).toContain("s-restart.jsonl");
    const port = gw.port;
    expect(await gw.stop()).toBe(0);
    gw = await spawnGateway({ target, stateDir, env: { OPENAI_API_KEY: "sk-test-key" }, args: ["--port", String(port)] });
    const { c: c2 } = await TestClient.connect(gw.url);
    await run(c2, { message: "what number?", sessionId: "s-restart" });
    const msgs = fake.requests.at(-1)!.body.messages;
    expect(msgs.some((m: any) => m.role === "user" && m.content === "remember the number 42")).toBe(true);
    c2.close();
  });

  test("openai is picked when OPENAI_API_KEY is set and no backend is configured", async () => {
    const g = await spawnGateway({ target, env: { OPENAI_API_KEY: "sk-x" } });
    const { ok, c } = await TestClient.connect(g.url);
    expect(ok.snapshot.health.agent.backend).toBe("openai");
    c.close();
    await g.stop();
  });
});

describe("openai backend: failures", () => {
  let fake: FakeOpenAi;
  beforeAll(() => {
    fake = startFakeOpenAi();
  });
  afterAll(() => fake.stop());

  test("a server that stalls trips AGENT_TIMEOUT (retryable) and the HTTP request is aborted", async () => {
    const g = await spawnGateway({ target, config: { agent: { backend: "openai", openai: { baseUrl: fake.url, model: "slow" } } } });
    const { c } = await TestClient.connect(g.url);
    const before = fake.aborted;
    const started = Date.now();
    const { final } = await run(c, { message: "hello", timeout: 0.4 });
    expect(final.ok).toBe(false);
    expect(final.error.code).toBe("AGENT_TIMEOUT");
    expect(final.error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    await Bun.sleep(200);
    expect(fake.aborted).toBeGreaterThan(before);
    c.close();
    await g.stop();
  });

  test("HTTP 500 ends the run with status error and the server's words", async () => {
    const g = await spawnGateway({ target, config: { agent: { backend: "openai", openai: { baseUrl: fake.url, model: "fail" } } } });
    const { c } = await TestClient.connect(g.url);
    const { final } = await run(c, { message: "hello" });
    expect(final.ok).toBe(true);
    expect(final.payload.status).toBe("error");
    expect(final.payload.summary).toContain("HTTP 500");
    expect(final.payload.summary).toContain("the model fell over");
    expect((await c.request("health")).ok).toBe(true);
    c.close();
    await g.stop();
  });
});

describe("command backend: a configured argv, never a shell", () => {
  test("stdout lines stream; JSON lines pass through as structured events; templating fills the argv", async () => {
    const g = await spawnGateway({
      target,
      config: { agent: { backend: "command", command: [join(FIXTURES, "stream.sh"), "{{message}}", "{{sessionId}}"] } },
    });
    const { c } = await TestClient.connect(g.url);
    const { final, events } = await run(c, { message: "rain; rm -rf / $(x)", sessionId: "work" });
    expect(final.payload).toMatchObject({ status: "ok", summary: "thinking about: rain; rm -rf / $(x)\nanswer for session work" });
    const json = events.find((e) => e.payload.stream === "json");
    expect(json.payload.data).toEqual({ type: "tool_use", name: "search", input: { q: "weather" } });
    const text = events.filter((e) => e.payload.stream === "assistant").map((e) => e.payload.data.delta);
    expect(text).toEqual(["thinking about: rain; rm -rf / $(x)\n", "answer for session work\n"]);
    c.close();
    await g.stop();
  });

  test("a non-zero exit is status error with the exit code and the tail of stderr", async () => {
    const g = await spawnGateway({ target, config: { agent: { backend: "command", command: [join(FIXTURES, "fail.sh")] } } });
    const { c } = await TestClient.connect(g.url);
    const { final } = await run(c, { message: "x" });
    expect(final.payload.status).toBe("error");
    expect(final.payload.summary).toContain("exited with 3");
    expect(final.payload.summary).toContain("disk full");
    c.close();
    await g.stop();
  });

  test("a hanging command is killed at the deadline: AGENT_TIMEOUT", async () => {
    const pidFile = join(tempStateDir(), "pid");
    const g = await spawnGateway({ target, config: { agent: { backend: "command", command: [join(FIXTURES, "hang.sh"), pidFile] } } });
    const { c } = await TestClient.connect(g.url);
    const { final } = await run(c, { message: "x", timeout: 0.5 });
    expect(final.error.code).toBe("AGENT_TIMEOUT");
    const pid = Number(readFileSync(pidFile, "utf8"));
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      try {
        process.kill(pid, 0);
        await Bun.sleep(50);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
    c.close();
    await g.stop();
  });

  test("a missing agent.command is a config error naming the key", async () => {
    const { runCli } = await import("../helpers/gateway.ts");
    const dir = tempStateDir({ agent: { backend: "command" } });
    const res = await runCli(["gateway", "--port", "0"], { target, env: { CLAWDIS_STATE_DIR: dir } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("agent.command: required");
  });
});

describe("Runs: ordering, concurrency, idempotency, delivery, shutdown", () => {
  test("one session runs in order, one at a time; sessions run side by side up to maxConcurrent", async () => {
    const log = join(tempStateDir(), "runs.log");
    const g = await spawnGateway({
      target,
      config: { agent: { backend: "command", maxConcurrent: 2, command: [join(FIXTURES, "timed.sh"), log, "{{sessionId}}", "{{message}}"] } },
    });
    const { c } = await TestClient.connect(g.url);
    await Promise.all([
      run(c, { message: "a1", sessionId: "A" }),
      run(c, { message: "a2", sessionId: "A" }),
      run(c, { message: "b1", sessionId: "B" }),
      run(c, { message: "c1", sessionId: "C" }),
    ]);
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => l.split(" "));
    const span = (m: string) => ({
      start: Number(lines.find((l) => l[0] === "start" && l[2] === m)![3]),
      end: Number(lines.find((l) => l[0] === "end" && l[2] === m)![3]),
    });
    expect(span("a2").start).toBeGreaterThanOrEqual(span("a1").end);
    // Never more than two at once.
    const events = lines.map((l) => ({ t: Number(l[3]), d: l[0] === "start" ? 1 : -1 })).sort((x, y) => x.t - y.t || x.d - y.d);
    let level = 0;
    let peak = 0;
    for (const e of events) peak = Math.max(peak, (level += e.d));
    expect(peak).toBe(2);
    c.close();
    await g.stop();
  });

  test("a run outlives its client; a retry with the same key after reconnect gets the same runId and final", async () => {
    const log = join(tempStateDir(), "runs.log");
    const g = await spawnGateway({ target, config: { agent: { backend: "command", command: [join(FIXTURES, "timed.sh"), log, "s", "{{message}}"] } } });
    const key = crypto.randomUUID();
    const { c } = await TestClient.connect(g.url);
    c.send({ type: "req", id: "first", method: "agent", params: { message: "survive", idempotencyKey: key } });
    const ack = await c.next((f) => f.type === "res" && f.id === "first");
    c.close();
    const { c: again } = await TestClient.connect(g.url);
    const { ack: ack2, final } = await run(again, { message: "survive", idempotencyKey: key });
    expect(ack2.payload.runId).toBe(ack.payload.runId);
    expect(final.payload).toMatchObject({ runId: ack.payload.runId, status: "ok", summary: "done survive" });
    expect(readFileSync(log, "utf8").match(/^start/gm)!.length).toBe(1);
    again.close();
    await g.stop();
  });

  test("deliver:true without a linked provider: the run completes and reports the delivery error", async () => {
    const g = await spawnGateway({ target });
    const { c } = await TestClient.connect(g.url);
    const { final } = await run(c, { message: "send me", to: "+15551234567", deliver: true });
    expect(final.payload.status).toBe("ok");
    expect(final.payload.delivery).toMatchObject({ ok: false, error: { code: "NOT_LINKED" } });
    c.close();
    await g.stop();
  });

  test("shutdown ends runs in flight with status error, reason shutdown, before the shutdown event", async () => {
    const pidFile = join(tempStateDir(), "pid");
    const g = await spawnGateway({ target, config: { agent: { backend: "command", command: [join(FIXTURES, "hang.sh"), pidFile] } } });
    const { c } = await TestClient.connect(g.url);
    c.send({ type: "req", id: "long", method: "agent", params: { message: "x", idempotencyKey: "k" } });
    await c.next((f) => f.type === "res" && f.id === "long");
    for (let i = 0; i < 50 && !existsSync(pidFile); i++) await Bun.sleep(20);
    g.proc.kill("SIGTERM");
    const final = await c.next((f) => f.type === "res" && f.id === "long" && f.payload?.status !== "accepted");
    const shutdown = await c.next((f) => f.event === "shutdown");
    expect(final.payload).toMatchObject({ status: "error", summary: "shutdown" });
    expect(c.frames.indexOf(final)).toBeLessThan(c.frames.indexOf(shutdown));
    expect(await g.exited).toBe(0);
  });
});
