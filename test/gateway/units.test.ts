/** The gateway's small parts, each on its own: dedupe, presence coalescing, agent deadlines (token comparison: test/core). */
import { describe, expect, test } from "bun:test";
import { AgentRunner } from "../../src/agent/runner.ts";
import type { AgentBackend } from "../../src/agent/types.ts";
import { Dedupe } from "../../src/runs/dedupe.ts";
import { Presence } from "../../src/gateway/presence.ts";
import { silentLogger } from "../../src/log.ts";
import { GatewayError, type PresenceEvent } from "../../src/protocol/index.ts";

describe("Dedupe: idempotency keys", () => {
  test("a repeat within the TTL shares the first result and does no work", async () => {
    const d = new Dedupe<number>(1000);
    let calls = 0;
    const a = d.run("k", async () => ++calls);
    const b = d.run("k", async () => ++calls);
    expect(a.first).toBe(true);
    expect(b.first).toBe(false);
    expect(await b.value).toBe(1);
    expect(calls).toBe(1);
  });

  test("after the TTL the work runs again", async () => {
    let now = 0;
    const d = new Dedupe<number>(1000, 10, () => now);
    let calls = 0;
    await d.run("k", async () => ++calls).value;
    now = 1001;
    expect(await d.run("k", async () => ++calls).value).toBe(2);
  });

  test("a failure is forgotten so a retry can succeed", async () => {
    const d = new Dedupe<string>(1000);
    await expect(d.run("k", async () => Promise.reject(new Error("down"))).value).rejects.toThrow("down");
    await Bun.sleep(0);
    expect(await d.run("k", async () => "sent").value).toBe("sent");
  });

  test("it is bounded: the oldest keys go first", async () => {
    const d = new Dedupe<number>(60_000, 3);
    for (let i = 0; i < 10; i++) await d.run(`k${i}`, async () => i).value;
    expect(d.size).toBeLessThanOrEqual(3);
    expect(d.run("k9", async () => -1).first).toBe(false);
  });
});

describe("Presence: deltas coalesced, bounded, expiring", () => {
  const entry = (id: string) => ({ host: "h", ip: "127.0.0.1", version: "1", mode: "cli", ts: 1, instanceId: id });

  test("many joins within the window go out as one delta", async () => {
    const published: PresenceEvent[] = [];
    const p = new Presence({ ttlMs: 1000, maxEntries: 100, coalesceMs: 20, publish: (d) => published.push(d) });
    for (let i = 0; i < 50; i++) p.upsert(entry(`c${i}`), true);
    await Bun.sleep(60);
    expect(published.length).toBe(1);
    expect(published[0]!.upserted.length).toBe(50);
    expect(p.version).toBe(50);
  });

  test("a join and a leave in one window leave only the removal", () => {
    const published: PresenceEvent[] = [];
    const p = new Presence({ ttlMs: 1000, maxEntries: 100, coalesceMs: 1000, publish: (d) => published.push(d) });
    p.upsert(entry("a"), true);
    p.release("a", "disconnect");
    p.flush();
    expect(published[0]!.upserted).toEqual([]);
    expect(published[0]!.removed.map((e) => [e.instanceId, e.reason])).toEqual([["a", "disconnect"]]);
  });

  test("an instance with two connections stays until the last one leaves", () => {
    const p = new Presence({ ttlMs: 1000, maxEntries: 100, coalesceMs: 0, publish: () => {} });
    p.upsert(entry("a"), true);
    p.upsert(entry("a"), true);
    p.release("a", "disconnect");
    expect(p.size).toBe(1);
    p.release("a", "disconnect");
    expect(p.size).toBe(0);
  });

  test("notes without a connection expire after the TTL; connected entries do not", () => {
    let now = 0;
    const p = new Presence({ ttlMs: 1000, maxEntries: 100, coalesceMs: 0, publish: () => {}, now: () => now });
    p.upsert(entry("live"), true);
    p.note({ ...entry("note"), text: "hi" });
    now = 2000;
    p.sweep();
    expect(p.list().map((e) => e.instanceId)).toEqual(["live"]);
  });

  test("the list is bounded: notes are evicted before connected entries", () => {
    const p = new Presence({ ttlMs: 1000, maxEntries: 3, coalesceMs: 0, publish: () => {} });
    p.upsert(entry("live1"), true);
    p.note(entry("note"));
    p.upsert(entry("live2"), true);
    p.upsert(entry("live3"), true);
    expect(p.list().map((e) => e.instanceId).sort()).toEqual(["live1", "live2", "live3"]);
  });
});

describe("AgentRunner: deadlines and failures", () => {
  const slow: AgentBackend = {
    name: "slow",
    run: (_turn, _emit, signal) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve({ summary: "late" }), 10_000);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(signal.reason);
        });
      }),
  };

  test("past the deadline the run is aborted with AGENT_TIMEOUT, retryable", async () => {
    const events: string[] = [];
    const runner = new AgentRunner({ backend: slow, log: silentLogger, onEvent: (e) => events.push(`${e.stream}:${JSON.stringify(e.data)}`) });
    const { done } = await runner.start({ message: "x", timeoutMs: 50 });
    const err = (await done.catch((e: unknown) => e)) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe("AGENT_TIMEOUT");
    expect(err.retryable).toBe(true);
    expect(runner.active).toBe(0);
    expect(events.at(-1)).toContain('"phase":"error"');
  });

  test("a backend that ignores the abort still cannot hold the final past the deadline", async () => {
    const deaf: AgentBackend = { name: "deaf", run: () => new Promise((r) => setTimeout(() => r({ summary: "late" }), 2_000)) };
    const runner = new AgentRunner({ backend: deaf, log: silentLogger, onEvent: () => {} });
    const started = Date.now();
    await expect((await runner.start({ message: "x", timeoutMs: 50 })).done).rejects.toThrow("did not finish");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test("a backend failure is a final with status error and the reason", async () => {
    const broken: AgentBackend = { name: "broken", run: async () => Promise.reject(new Error("model exploded")) };
    const runner = new AgentRunner({ backend: broken, log: silentLogger, onEvent: () => {} });
    const { runId, done } = await runner.start({ message: "x", timeoutMs: 1000 });
    // Issue 22 §5: the final carries the typed error beside the summary.
    expect(await done).toEqual({ runId, status: "error", summary: "model exploded", error: { code: "UNAVAILABLE", message: "model exploded", retryable: false } });
  });
});

describe("Presence: leading edge without a storm of frames", () => {
  const entry = (id: string) => ({ host: "h", ip: "127.0.0.1", version: "1", mode: "cli", ts: 1, instanceId: id });

  test("an isolated change goes out at once; a steady stream of changes is one frame per window", async () => {
    const published: number[] = [];
    const p = new Presence({ ttlMs: 1000, maxEntries: 10_000, coalesceMs: 50, publish: (d) => published.push(d.upserted.length + d.removed.length) });
    const t0 = Date.now();
    p.upsert(entry("first"), true);
    await Bun.sleep(5);
    expect(published).toEqual([1]);
    // 100 changes, one every ~2 ms for ~200 ms: never quiet for a window.
    for (let i = 0; i < 100; i++) {
      p.upsert(entry(`c${i}`), true);
      await Bun.sleep(2);
    }
    await Bun.sleep(80);
    const elapsed = Date.now() - t0;
    expect(published.reduce((a, b) => a + b, 0)).toBe(101);
    // At most one frame per 50 ms window (plus the leading one), not one per change.
    expect(published.length).toBeLessThanOrEqual(Math.ceil(elapsed / 50) + 2);
    p.stop();
  });
});

describe("IdempotencyStore: bounded in memory and on disk", () => {
  test("expired keys leave memory, and the file is compacted while the gateway runs", async () => {
    const { IdempotencyStore } = await import("../../src/runs/idempotency.ts");
    const { readFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tempStateDir } = await import("../helpers/gateway.ts");
    let now = 0;
    const file = join(tempStateDir(), "idempotency.jsonl");
    const store = new IdempotencyStore(file, { agent: 1_000 }, 100_000, () => now);
    for (let i = 0; i < 12_000; i++) {
      now += 10;
      await store.put({ key: `k${i}`, kind: "agent", state: "done", runId: `r${i}`, ts: now });
    }
    // Only the last second's keys are alive (1,000 ms / 10 ms = 100).
    expect(store.size).toBeLessThanOrEqual(101);
    expect(store.get("agent", "k11999")?.runId).toBe("r11999");
    expect(store.get("agent", "k0")).toBeUndefined();
    const lines = readFileSync(file, "utf8").trim().split("\n").length;
    expect(lines).toBeLessThan(12_000);
  });
});
