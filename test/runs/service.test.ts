/** src/runs: agent runs as one service (ack before events, typed causes, idempotency across restarts). */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentRunner } from "../../src/agent/runner.ts";
import { echoBackend } from "../../src/agent/backends/echo.ts";
import type { AgentBackend } from "../../src/agent/types.ts";
import { silentLogger } from "../../src/log.ts";
import type { AgentParams } from "../../src/protocol/index.ts";
import { AgentRuns, IdempotencyStore } from "../../src/runs/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A store whose writes take `delayMs` (Deno's file writes were slow enough to reorder the ack). */
function store(delayMs = 0, dir = mkdtempSync(join(tmpdir(), "runs-"))): IdempotencyStore {
  dirs.push(dir);
  const s = new IdempotencyStore(join(dir, "idempotency.jsonl"), { agent: 60_000 });
  const put = s.put.bind(s);
  s.put = async (r) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return put(r);
  };
  return s;
}

function service(backend: AgentBackend, idempotency: IdempotencyStore, frames: string[]) {
  const agent = new AgentRunner({ backend, log: silentLogger, onEvent: (e) => frames.push(`event:${e.runId}:${e.seq}`) });
  const runs = new AgentRuns({ agent, deliver: async (_p, final) => final, idempotency, defaultTimeoutMs: () => 5_000 });
  return { agent, runs };
}

const params = (key: string, message = "hello there, this is a message"): AgentParams => ({ message, idempotencyKey: key });

describe("AgentRuns: the ack is the run's first frame", () => {
  test("a slow idempotency write cannot let events overtake the ack", async () => {
    const frames: string[] = [];
    const { runs } = service(echoBackend(), store(40), frames);
    const run = await runs.start(params("k1"), { onAccepted: (runId) => frames.push(`ack:${runId}`) });
    await run.done;
    expect(frames[0]).toBe(`ack:${run.runId}`);
    expect(frames.filter((f) => f.startsWith("event:")).length).toBeGreaterThan(2);
  });

  test("a second caller with the same key joins: same runId, one run, its own ack", async () => {
    const frames: string[] = [];
    const { runs } = service(echoBackend(), store(10), frames);
    const [a, b] = await Promise.all([
      runs.start(params("k2"), { onAccepted: () => frames.push("ack:a") }),
      runs.start(params("k2"), { onAccepted: () => frames.push("ack:b") }),
    ]);
    expect(b.runId).toBe(a.runId);
    expect(await b.done).toEqual(await a.done);
    expect(frames.slice(0, 2).sort()).toEqual(["ack:a", "ack:b"]);
  });
});

describe("AgentRuns: delivery", () => {
  test("the reply is delivered through the provider the message came from, answering the message it names", async () => {
    const agent = new AgentRunner({ backend: echoBackend(), log: silentLogger, onEvent: () => {} });
    const seen: unknown[] = [];
    const runs = new AgentRuns({
      agent,
      deliver: async (p, final, via, replyTo) => (seen.push({ deliver: p.deliver, via, replyTo }), final),
      idempotency: store(),
      defaultTimeoutMs: () => 5_000,
    });
    const run = await runs.start({ ...params("k-deliver"), to: "4242", deliver: true }, { via: "telegram", replyTo: "m-7" });
    expect((await run.done).status).toBe("ok");
    expect(seen).toEqual([{ deliver: true, via: "telegram", replyTo: "m-7" }]);
  });
});

describe("AgentRuns: outcomes are typed", () => {
  test("ok, error and timeout causes", async () => {
    const frames: string[] = [];
    const failing: AgentBackend = { name: "failing", run: async () => Promise.reject(new Error("backend broke")) };
    const stuck: AgentBackend = { name: "stuck", run: () => new Promise(() => {}) };
    const ok = await service(echoBackend(), store(), frames).runs.start(params("ok"));
    expect(await ok.cause).toBe("ok");
    const err = await service(failing, store(), frames).runs.start(params("err"));
    expect((await err.done).status).toBe("error");
    expect(await err.cause).toBe("error");
    const slow = await service(stuck, store(), frames).runs.start({ ...params("slow"), timeout: 0.05 });
    await expect(slow.done).rejects.toMatchObject({ code: "AGENT_TIMEOUT" });
    expect(await slow.cause).toBe("timeout");
  });

  test("shutdown: the key is forgotten on disk, so a retry after restart runs again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runs-"));
    const stuck: AgentBackend = { name: "stuck", run: () => new Promise(() => {}) };
    const first = service(stuck, store(0, dir), []);
    const run = await first.runs.start(params("k-shut"));
    first.agent.abortAll();
    expect(await run.cause).toBe("shutdown");
    expect(await run.done).toMatchObject({ status: "error", summary: "shutdown" });
    await first.runs.settled(1_000);
    const after = service(echoBackend(), store(0, dir), []);
    const again = await after.runs.start(params("k-shut"));
    expect(again.runId).not.toBe(run.runId);
    expect(await again.cause).toBe("ok");
  });

  test("a key whose run a restart cut short answers interrupted, cause shutdown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runs-"));
    const s = store(0, dir);
    await s.put({ key: "k-cut", kind: "agent", state: "pending", runId: "r-old", ts: Date.now() });
    const { runs } = service(echoBackend(), store(0, dir), []);
    const run = await runs.start(params("k-cut"));
    expect(run.runId).toBe("r-old");
    expect((await run.done).summary).toContain("interrupted");
    expect(await run.cause).toBe("shutdown");
  });
});
