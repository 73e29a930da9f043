/** The same gateway on Node (the JS bundle) and Deno (from source): hello → health → agent → shutdown. */
import { describe, expect, test } from "bun:test";
import { TestClient } from "../helpers/client.ts";
import { spawnGateway, type Target } from "../helpers/gateway.ts";

for (const target of ["node", "deno"] as Target[]) {
  describe(`Runtime smoke on ${target}`, () => {
    test("hello → health → agent → shutdown", async () => {
      const g = await spawnGateway({ target, config: { gateway: { maxPayload: 4096 } } });
      expect(g.stdout()).toContain(`"runtime":"${target}"`);
      const { c, ok } = await TestClient.connect(g.url);
      expect(ok.protocol).toBe(1);
      expect((await c.request("health")).payload.ok).toBe(true);
      const id = "run";
      c.send({ type: "req", id, method: "agent", params: { message: "hello from the smoke test", idempotencyKey: "k" } });
      const final = await c.next((f) => f.type === "res" && f.id === id && f.payload.status !== "accepted");
      expect(final.payload.summary).toBe("hello from the smoke test");
      expect(c.events("agent").some((e) => e.payload.stream === "assistant")).toBe(true);
      // Runtime-specific limits: an oversize frame is refused on this runtime too.
      const { c: big } = await TestClient.connect(g.url);
      big.send({ type: "req", id: "x", method: "health", params: { pad: "z".repeat(5000) } });
      expect((await big.closed).code).toBe(1009);
      g.proc.kill("SIGTERM");
      const ev = await c.next((f) => f.event === "shutdown");
      expect(ev.payload.reason).toBe("SIGTERM");
      expect((await c.closed).code).toBe(1001);
      expect(await g.exited).toBe(0);
    }, 30_000);
  });
}
