/**
 * Issue 22 §5 end to end: a model's stream that ends badly (cut, broken, rate limited,
 * an outage) is a typed failure, never a reply; one that stops at its length is marked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../../helpers/client.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../../helpers/fake-openai.ts";
import { spawnGateway, type RunningGateway } from "../../helpers/gateway.ts";
import type { Target } from "./runtime.ts";
import { lastUser, model, run } from "./tools.ts";

export function modelStreamSuite(target: Target): void {
  describe(`a model's stream that ends badly (${target})`, () => {
    let fake: FakeOpenAi;
    let gw: RunningGateway;
    let c: TestClient;
    let limitedOnce = false;
    beforeAll(async () => {
      fake = startFakeOpenAi((messages) => {
        // The first request of "rate limited" is refused with a Retry-After; the retry streams.
        if (lastUser(messages) === "rate limited" && !limitedOnce) {
          limitedOnce = true;
          return { status: 429, retryAfter: "1" };
        }
        if (lastUser(messages) === "outage") return { status: 503 };
        if (lastUser(messages) === "come back later") return { status: 429, retryAfter: "30" };
        return model(messages);
      });
      gw = await spawnGateway({ target, config: { agent: { backend: "openai", openai: { baseUrl: fake.url, model: "good" } } } });
      ({ c } = await TestClient.connect(gw.url));
    });
    afterAll(async () => {
      c?.close();
      await gw?.stop();
      fake?.stop();
    });

    test("a stream cut without its terminator ends status error; the partial text stays in the events", async () => {
      const { final, events } = await run(c, { message: "cut me off" });
      expect(final.payload.status).toBe("error");
      expect(final.payload.summary).toContain("cut off");
      expect(final.payload.error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
      const text = events.filter((e) => e.stream === "assistant").map((e) => e.data.delta).join("");
      expect(text).toBe("I was about to say something important");
    });

    test("a connection that breaks mid-stream ends status error, UNAVAILABLE and retryable", async () => {
      const { final } = await run(c, { message: "reset me" });
      expect(final.payload.status).toBe("error");
      expect(final.payload.error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
    });

    test('finish_reason "length" is ok but marked truncated', async () => {
      const { final } = await run(c, { message: "too long" });
      expect(final.payload).toMatchObject({ status: "ok", summary: "a reply that hit the length limit", truncated: true });
    });

    test("a 429 with Retry-After, then a good stream, gives one normal reply", async () => {
      const before = fake.requests.length;
      const started = Date.now();
      const { final, events } = await run(c, { message: "rate limited" });
      expect(final.payload).toEqual({ runId: final.payload.runId, status: "ok", summary: "plain: rate limited" });
      expect(fake.requests.length - before).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(events.filter((e) => e.stream === "assistant").map((e) => e.data.delta).join("")).toBe("plain: rate limited");
    });

    test("a 5xx is tried once more, then the final carries UNAVAILABLE, retryable", async () => {
      const before = fake.requests.length;
      const { final } = await run(c, { message: "outage" });
      expect(final.payload.status).toBe("error");
      expect(final.payload.summary).toContain("HTTP 503");
      expect(final.payload.error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
      expect(fake.requests.length - before).toBe(2);
    });

    test("a 429 whose Retry-After does not fit the deadline is not waited for: the final says when to come back", async () => {
      const before = fake.requests.length;
      const started = Date.now();
      const { final } = await run(c, { message: "come back later", timeout: 5 });
      expect(final.payload.status).toBe("error");
      expect(final.payload.error).toMatchObject({ code: "UNAVAILABLE", retryable: true, retryAfterMs: 30_000 });
      expect(fake.requests.length - before).toBe(1);
      expect(Date.now() - started).toBeLessThan(3_000);
    });
  });
}
