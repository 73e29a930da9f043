/** Hostile input survived: brute-force limits, pre-auth caps, and fuzzed frames while a good client keeps being served. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { CloseCode, METHODS, ReqSchema } from "../../../src/protocol/index.ts";
import { helloFrame, TestClient, type Frame } from "../../helpers/client.ts";
import { spawnGateway, type RunningGateway } from "../../helpers/gateway.ts";
import type { Target } from "./runtime.ts";

// 1006 is no close the gateway chose: the socket died without a close frame.
const DOCUMENTED = new Set<number>(Object.values(CloseCode).filter((c) => c !== CloseCode.ABNORMAL_CLOSURE));

/** Run the hardening suite against gateways started on `target`. */
export function hardeningSuite(target: Target): void {
  describe(`hardening on ${target}`, () => {
    describe("Auth: failed hellos are rate limited per network (all of loopback is one)", () => {
      const TOKEN = "the-real-token-5f2c";
      let gw: RunningGateway;
      beforeAll(async () => {
        gw = await spawnGateway({
          target,
          config: { gateway: { token: TOKEN, allowedOrigins: ["http://page.local"], authFailuresPerMinute: 10 } },
        });
      });
      afterAll(async () => {
        await gw.stop();
      });

      async function attempt(token: string, origin?: string): Promise<Frame & { closeCode: number }> {
        const c = await TestClient.open(gw.url, origin ? { Origin: origin } : undefined);
        c.send(helloFrame({ auth: { token } }));
        const f = await c.next((x) => x.type === "hello-ok" || x.type === "hello-error");
        c.close();
        return { ...f, closeCode: f.type === "hello-ok" ? 1000 : (await c.closed).code };
      }

      test("a browser page on this host gets 10 tries a minute, then rate-limited even with the right token", async () => {
        for (let i = 0; i < 10; i++) {
          const f = await attempt(`guess-${i}`, "http://page.local");
          expect(f.reason).toBe("unauthorized");
        }
        const blocked = await attempt(TOKEN, "http://page.local");
        expect(blocked.reason).toBe("rate-limited");
        expect(blocked.retryAfterMs).toBeGreaterThan(50_000);
        expect(blocked.closeCode).toBe(4004);
      });

      test("the local CLI (loopback, no Origin) shares loopback's budget: after a page's brute force it waits too (issue 20)", async () => {
        // Another local account is exactly who the limiter is for, and it need not send an Origin.
        const blocked = await attempt(TOKEN);
        expect(blocked.reason).toBe("rate-limited");
        expect(blocked.closeCode).toBe(4004);
      });

      test("neither the token nor the guesses appear in the logs or in any error", async () => {
        const logs = readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8") + gw.stdout() + gw.stderr();
        expect(logs).not.toContain(TOKEN);
        expect(logs).not.toContain("guess-3");
        expect(logs).toContain("rate-limited");
      });
    });

    describe("Pre-auth limits", () => {
      test("frames before hello-ok are capped at 64 KiB whatever maxPayload says", async () => {
        const g = await spawnGateway({ target, config: { gateway: { maxPayload: 1024 * 1024 } } });
        const c = await TestClient.open(g.url);
        c.send(JSON.stringify({ ...helloFrame(), userAgent: "x".repeat(70_000) }));
        expect((await c.closed).code).toBe(1009);
        const { c: ok } = await TestClient.connect(g.url);
        ok.send({ type: "req", id: "big", method: "health", params: { pad: "y".repeat(200_000) } });
        // After hello-ok the limit is maxPayload: this frame is read and answered (the unknown field ignored).
        const res = await ok.next((f) => f.type === "res" && f.id === "big");
        expect(res.ok).toBe(true);
        ok.close();
        await g.stop();
      });

      test("sockets in their handshake are capped; handshake timeouts free the slots", async () => {
        // No WebChat: its relay's own handshake would take one of the five slots if it came late.
        const g = await spawnGateway({ target, config: { gateway: { maxPendingHandshakes: 5, handshakeTimeoutMs: 400 }, webchat: { enabled: false } } });
        const idle = await Promise.all(Array.from({ length: 5 }, () => TestClient.open(g.url)));
        const extra = await TestClient.open(g.url);
        // Full, and all five are this address's: the newcomer takes the oldest silent one's slot
        // (4005), so one address cannot lock itself out (issue 20 §4); the rest time out (4000).
        const codes = await Promise.all(idle.map(async (c) => (await c.closed).code));
        expect(codes.sort()).toEqual([4000, 4000, 4000, 4000, 4005]);
        expect((await extra.closed).code).toBe(4000);
        const { ok } = await TestClient.connect(g.url);
        expect(ok.type).toBe("hello-ok");
        await g.stop();
      });
    });

    describe("Fuzzing the frame decoder and every method's params (fast-check)", () => {
      let gw: RunningGateway;
      let good: TestClient;
      beforeAll(async () => {
        gw = await spawnGateway({ target, config: { gateway: { maxPayload: 65_536, presenceCoalesceMs: 50 } } });
        good = (await TestClient.connect(gw.url)).c;
      });
      afterAll(async () => {
        good.close();
        await gw.stop();
      });

      const validParams: Record<string, unknown> = {
        health: {},
        status: {},
        "system-presence": {},
        "system-event": { text: "fuzz", tags: ["a"] },
        send: { to: "+1555", message: "m", idempotencyKey: "k" },
        agent: { message: "m", idempotencyKey: "k" },
      };
      const methodNames = Object.keys(validParams);

      /** A valid req, then one mutation: drop a key, swap a value for junk, add a key, or rename the method. */
      const mutatedReq = fc
        .record({
          method: fc.constantFrom(...methodNames, "nope", ""),
          mutation: fc.constantFrom("none", "drop", "junk", "extra", "params-junk", "id-junk"),
          junk: fc.jsonValue({ maxDepth: 2 }),
          key: fc.string({ maxLength: 8 }),
        })
        .map(({ method, mutation, junk, key }) => {
          const params: Record<string, unknown> = { ...((validParams[method] as object) ?? {}) };
          const keys = Object.keys(params);
          if (mutation === "drop" && keys.length) delete params[keys[0]!];
          if (mutation === "junk" && keys.length) params[keys[keys.length - 1]!] = junk;
          if (mutation === "extra") params[key || "x"] = junk;
          if (params.idempotencyKey !== undefined) params.idempotencyKey = crypto.randomUUID();
          const frame: Record<string, unknown> = { type: "req", id: `f-${crypto.randomUUID()}`, method, params };
          if (mutation === "params-junk") frame.params = junk;
          if (mutation === "id-junk") frame.id = junk;
          return JSON.stringify(frame);
        });
      const anyFrame = fc.oneof(
        { weight: 6, arbitrary: mutatedReq },
        { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)) },
        { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
      );

      /** What the gateway must do with a frame after hello: the oracle is the protocol's own schemas. */
      function expectation(text: string): "success-allowed" | "error" | "close" {
        let frame: unknown;
        try {
          frame = JSON.parse(text);
        } catch {
          return "close";
        }
        const envelope = v.safeParse(ReqSchema, frame);
        if (!envelope.success) {
          const id = (frame as { id?: unknown } | null)?.id;
          const t = (frame as { type?: unknown } | null)?.type;
          return t === "req" && typeof id === "string" && id.length > 0 && id.length <= 128 ? "error" : "close";
        }
        const m = METHODS[envelope.output.method as keyof typeof METHODS];
        if (!m) return "error";
        return v.safeParse(m.params, envelope.output.params).success ? "success-allowed" : "error";
      }

      test("thousands of random and mutated frames: never a crash, never success for a malformed frame, always an answer or a documented close", async () => {
        let c = (await TestClient.connect(gw.url)).c;
        let checked = 0;
        await fc.assert(
          fc.asyncProperty(anyFrame, async (text) => {
            const want = expectation(text);
            const from = c.frames.length;
            c.send(text);
            let id: unknown;
            try {
              id = JSON.parse(text)?.id;
            } catch {}
            const answered = c.next((f) => f.type === "res" && f.id === id, 3_000, from).then((f) => ({ kind: "res" as const, f }));
            const closed = c.closed.then((x) => ({ kind: "close" as const, code: x.code }));
            const outcome = await Promise.race([answered, closed]);
            checked += 1;
            if (outcome.kind === "close") {
              expect(want).toBe("close");
              expect(DOCUMENTED.has(outcome.code)).toBe(true);
              answered.catch(() => {});
              c = (await TestClient.connect(gw.url)).c;
              return;
            }
            expect(want).not.toBe("close");
            if (want === "error") {
              expect(outcome.f.ok).toBe(false);
              expect(outcome.f.error.code).toBe("INVALID_REQUEST");
            }
          }),
          { numRuns: 1500 },
        );
        c.close();
        expect(checked).toBe(1500);
        // The well-behaved client beside the fuzzer was served throughout.
        expect((await good.request("health")).ok).toBe(true);
      }, 120_000);

      test("random bytes before hello: answered with hello-error or closed with a documented code", async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.oneof(
              fc.string({ maxLength: 300 }),
              fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)),
              fc.record({ minProtocol: fc.integer(), maxProtocol: fc.integer(), client: fc.jsonValue() }).map((h) => JSON.stringify({ type: "hello", ...h, caps: [] })),
            ),
            async (text) => {
              const c = await TestClient.open(gw.url);
              c.send(text);
              const { code } = await c.closed;
              expect(DOCUMENTED.has(code)).toBe(true);
              expect(c.frames.every((f) => f.type === "hello-error")).toBe(true);
            },
          ),
          { numRuns: 300 },
        );
        expect((await good.request("status")).ok).toBe(true);
      }, 60_000);
    });

  });
}
