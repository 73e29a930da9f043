/** No event lost across a reconnect: cursors, the journal, resume, agent.wait (additive to protocol v1). */
import { cuttableWebSocket } from "../../helpers/sockets.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { GatewayClient } from "../../../src/client/index.ts";
import type { AgentEvent } from "../../../src/protocol/index.ts";
import { helloFrame, TestClient } from "../../helpers/client.ts";
import { spawnGateway, tempStateDir, type RunningGateway } from "../../helpers/gateway.ts";
import type { Target } from "./runtime.ts";

const FIXTURES = join(import.meta.dir, "..", "..", "fixtures", "agents");

/** Run the resume suite against gateways started on `target`. */
export function resumeSuite(target: Target): void {
  describe(`resume on ${target}`, () => {
    let gw: RunningGateway;
    beforeAll(async () => {
      gw = await spawnGateway({ target, config: { gateway: { tickIntervalMs: 1_000, journal: { maxEvents: 50_000 } } } });
    });
    afterAll(async () => {
      await gw.stop();
    });

    describe("Cursor and resume", () => {
      test("broadcast events carry a cursor; tick does not", async () => {
        const { c, ok } = await TestClient.connect(gw.url);
        expect(ok.snapshot.cursor).toMatch(/^[a-z0-9]+\.\d+$/);
        await c.request("system-event", { text: "cursor please" });
        const ev = await c.next((f) => f.event === "presence" && f.cursor);
        expect(ev.cursor.split(".")[0]).toBe(ok.snapshot.cursor.split(".")[0]);
        const tick = await c.next((f) => f.event === "tick", 3_000);
        expect(tick.cursor).toBeUndefined();
        c.close();
      });

      test("a client whose connection is cut while events stream ends with every event exactly once, in order", async () => {
        const { WS, cut } = cuttableWebSocket();
        const gaps: unknown[] = [];
        const consumer = new GatewayClient({ url: gw.url, WebSocket: WS, backoff: { initialMs: 20, maxMs: 50 }, onGap: (g) => void gaps.push(g) });
        await consumer.connect();
        const seen: AgentEvent[] = [];
        const cursors: string[] = [];
        consumer.on("agent", (f) => {
          seen.push(f.payload as AgentEvent);
          cursors.push(f.cursor!);
        });
        const producer = new GatewayClient({ url: gw.url });
        await producer.connect();
        const runs: string[] = [];
        const producing = (async () => {
          for (let i = 0; i < 40; i++) {
            const final = await producer.agent({ message: `streamed words number ${i} for the resume test`, idempotencyKey: crypto.randomUUID() });
            runs.push(final.runId);
          }
        })();
        for (let k = 0; k < 3; k++) {
          await Bun.sleep(30);
          cut();
        }
        await producing;
        // Let the last reconnect resume and drain.
        await consumer.waitOpen(5_000);
        await Bun.sleep(300);
        for (const runId of runs) {
          const mine = seen.filter((e) => e.runId === runId).map((e) => e.seq);
          expect(mine).toEqual(mine.map((_, i) => i + 1));
          expect(mine.length).toBeGreaterThanOrEqual(4);
        }
        const ns = cursors.map((c) => Number(c.split(".")[1]));
        expect(ns).toEqual([...ns].sort((a, b) => a - b));
        expect(new Set(ns).size).toBe(ns.length);
        expect(gaps).toEqual([]);
        consumer.close();
        producer.close();
      });

      test("stale, foreign and malformed cursors get resume ok:false with a reason, never a refused hello", async () => {
        const other = await spawnGateway({ target });
        const { c: o, ok: otherOk } = await TestClient.connect(other.url);
        o.close();
        for (const [cursor, reason] of [
          [otherOk.snapshot.cursor, "another gateway process"],
          ["garbage", "malformed"],
          [`${otherOk.snapshot.cursor.split(".")[0]}x.1`, "another gateway process"],
        ] as const) {
          const c = await TestClient.open(gw.url);
          c.send(helloFrame({ resume: { cursor } }));
          const ok = await c.next((f) => f.type === "hello-ok");
          expect(ok.resume.ok).toBe(false);
          expect(ok.resume.reason).toContain(reason);
          c.close();
        }
        await other.stop();
      });

      test("a cursor older than the journal's limits gets ok:false (too old)", async () => {
        const small = await spawnGateway({ target, config: { gateway: { journal: { maxEvents: 5 } } } });
        const { c, ok } = await TestClient.connect(small.url);
        // Separate presence events (changes within the coalescing window would merge).
        for (let i = 0; i < 10; i++) {
          await c.request("system-event", { text: `n${i}` });
          await Bun.sleep(40);
        }
        await Bun.sleep(100);
        const late = await TestClient.open(small.url);
        late.send(helloFrame({ resume: { cursor: ok.snapshot.cursor } }));
        const res = await late.next((f) => f.type === "hello-ok");
        expect(res.resume).toMatchObject({ ok: false });
        expect(res.resume.reason).toContain("too old");
        c.close();
        late.close();
        await small.stop();
      });

      test("a resumed hello replays exactly the missed events before any live one, seq continuing", async () => {
        const { c: a, ok } = await TestClient.connect(gw.url);
        const cursor = ok.snapshot.cursor;
        a.close();
        const { c: b } = await TestClient.connect(gw.url);
        for (let i = 0; i < 3; i++) {
          await b.request("system-event", { text: `while away ${i}`, instanceId: `away-${i}` });
          await Bun.sleep(40);
        }
        await Bun.sleep(100);
        const back = await TestClient.open(gw.url);
        back.send(helloFrame({ resume: { cursor } }));
        const hello = await back.next((f) => f.type === "hello-ok");
        expect(hello.resume.ok).toBe(true);
        expect(hello.resume.replayed).toBeGreaterThanOrEqual(3);
        await Bun.sleep(50);
        const events = back.frames.filter((f) => f.type === "event" && f.seq !== undefined);
        expect(events.slice(0, hello.resume.replayed).every((e) => e.cursor)).toBe(true);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        const texts = events.flatMap((e) => (e.event === "presence" ? e.payload.upserted.map((u: any) => u.text) : []));
        expect(texts).toEqual(expect.arrayContaining(["while away 0", "while away 1", "while away 2"]));
        b.close();
        back.close();
      });
    });

    describe("agent.wait", () => {
      test("returns the outcome of a run whose requester disconnected; times out with AGENT_TIMEOUT; unknown runId is INVALID_REQUEST", async () => {
        const log = join(tempStateDir(), "runs.log");
        const g = await spawnGateway({ target, config: { agent: { backend: "command", command: [join(FIXTURES, "timed.sh"), log, "s", "{{message}}"] } } });
        const { c: requester } = await TestClient.connect(g.url);
        requester.send({ type: "req", id: "r", method: "agent", params: { message: "outlive me", idempotencyKey: crypto.randomUUID() } });
        const ack = await requester.next((f) => f.type === "res" && f.id === "r");
        requester.close();
        const { c } = await TestClient.connect(g.url);
        const early = await c.request("agent.wait", { runId: ack.payload.runId, timeoutMs: 10 });
        expect(early.error).toMatchObject({ code: "AGENT_TIMEOUT", retryable: true });
        const final = await c.request("agent.wait", { runId: ack.payload.runId });
        expect(final.payload).toEqual({ runId: ack.payload.runId, status: "ok", summary: "done outlive me" });
        const again = await c.request("agent.wait", { runId: ack.payload.runId, timeoutMs: 10 });
        expect(again.payload.summary).toBe("done outlive me");
        const unknown = await c.request("agent.wait", { runId: "nope" });
        expect(unknown.error).toMatchObject({ code: "INVALID_REQUEST", details: { field: "params.runId" } });
        c.close();
        await g.stop();
      });

      test("GatewayClient.agent survives a dropped connection mid-run (resume + agent.wait)", async () => {
        const log = join(tempStateDir(), "runs.log");
        const g = await spawnGateway({ target, config: { agent: { backend: "command", command: [join(FIXTURES, "timed.sh"), log, "s", "{{message}}"] } } });
        const { WS, cut } = cuttableWebSocket();
        const client = new GatewayClient({ url: g.url, WebSocket: WS, backoff: { initialMs: 20, maxMs: 50 } });
        await client.connect();
        const deltas: string[] = [];
        const running = client.agent(
          { message: "keep going", idempotencyKey: crypto.randomUUID() },
          { onAccepted: () => setTimeout(cut, 20), onEvent: (e) => e.stream === "assistant" && deltas.push((e.data as any).delta) },
        );
        const final = await running;
        expect(final).toMatchObject({ status: "ok", summary: "done keep going" });
        expect(deltas.join("")).toBe("done keep going\n");
        client.close();
        await g.stop();
      });
    });

  });
}
