/**
 * Issue 21 §2 and issue 22 §6, provider-independent: transient send errors retried within
 * `delivery.retryWindowMs`, a lost answer never resent, a final refusal failed at once; queue
 * waits and ages on the monotonic clock (a wall-clock step while running changes nothing).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/core/clock.ts";
import { Delivery, ErrorReplies, type PacingOptions } from "../../src/delivery/index.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { silentLogger } from "../../src/log.ts";
import type { SendResult } from "../../src/protocol/index.ts";
import { Providers, type Provider, type ProviderSendParams } from "../../src/providers/index.ts";
import { SendError } from "../../src/providers/send-error.ts";

/** A provider whose next sends fail as scripted (an Error, or "down": not connected); every attempt is stamped. */
class ScriptedProvider implements Provider {
  readonly name = "telegram" as const;
  faults: Error[] = [];
  attempts: { message: string; at: number; key: string }[] = [];
  sent: { message: string; at: number }[] = [];
  connected = true;
  /** Stopped for good (WhatsApp's `stopped`, e.g. connection replaced): nothing to wait for. */
  stopped: string | undefined;
  private next = 1;
  async start() {}
  async stop() {}
  status() {
    return { linked: true, connected: this.connected, ...(this.stopped ? { detail: { stopped: this.stopped } } : {}) };
  }
  async send(p: ProviderSendParams): Promise<SendResult> {
    this.attempts.push({ message: p.message, at: performance.now(), key: p.idempotencyKey });
    const fault = this.faults.shift();
    if (fault) throw fault;
    this.sent.push({ message: p.message, at: performance.now() });
    return { provider: "telegram", to: p.to, messageId: String(this.next++), ts: Date.now() };
  }
}

/** The real clocks, with the wall clock steppable as an NTP correction or a changed date would step it. */
class SteppedClock implements Clock {
  offset = 0;
  wall = () => Date.now() + this.offset;
  mono = () => performance.now();
}

const FAST: PacingOptions = { perChatMinIntervalMs: 0, perMinute: 10_000, jitterMs: 0 };

function setup(o: { pacing?: Partial<PacingOptions>; retryWindowMs?: number; maxQueuedAgeMs?: number; clock?: Clock; dir?: string; provider?: ScriptedProvider } = {}) {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "clawdis-retry-"));
  const provider = o.provider ?? new ScriptedProvider();
  const ledger = new Ledger({ dir: join(dir, "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 });
  const retrying: number[] = [];
  const delivery: Delivery = new Delivery({
    ledger,
    providers: new Providers([provider]),
    outboxDir: join(dir, "outbox"),
    pacing: { whatsapp: FAST, telegram: { ...FAST, ...o.pacing } },
    maxChars: { whatsapp: 4096, telegram: 4096 },
    log: silentLogger,
    onQueueChange: () => retrying.push(delivery.retrying("telegram")),
    ...(o.retryWindowMs !== undefined ? { retryWindowMs: o.retryWindowMs } : {}),
    ...(o.maxQueuedAgeMs !== undefined ? { maxQueuedAgeMs: o.maxQueuedAgeMs } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  delivery.resume();
  return { dir, ledger, delivery, provider, retrying };
}

const transient = (what: string, retryAfterMs?: number) => new SendError("transient", what, retryAfterMs !== undefined ? { retryAfterMs } : {});
const send = (d: Delivery, message: string, key: string = crypto.randomUUID()) => d.send({ to: "42", message, provider: "telegram", idempotencyKey: key });

describe("Transient send errors are retried, not fatal (issue 21 §2)", () => {
  test("two 5xx then a 429 with retry_after: delivered once, after backoff and the advised wait; the record shows attempts and the last error", async () => {
    const { delivery, provider, ledger, retrying } = setup();
    provider.faults = [transient("Telegram answered 502 Bad Gateway"), transient("Telegram answered 502 Bad Gateway"), transient("rate limited", 1_200)];
    const res = await send(delivery, "hello", "k-5xx");
    expect(provider.sent.map((s) => s.message)).toEqual(["hello"]);
    expect(provider.attempts.length).toBe(4);
    // Same part, same key every time: the provider can drop a repeat.
    expect(new Set(provider.attempts.map((a) => a.key))).toEqual(new Set(["k-5xx"]));
    const gaps = provider.attempts.slice(1).map((a, i) => a.at - provider.attempts[i]!.at);
    expect(gaps[0]!).toBeGreaterThanOrEqual(450); // first backoff: 1 s nominal, at least half of it
    expect(gaps[1]!).toBeGreaterThanOrEqual(950); // second: 2 s nominal
    expect(gaps[2]!).toBeGreaterThanOrEqual(1_190); // the advised retry_after, as given
    const rec = ledger.byIdempotencyKey("k-5xx")!;
    expect(rec).toMatchObject({ status: "sent", attempts: 4, lastError: "UNAVAILABLE: rate limited", providerMessageId: res.messageId });
    // health's `retrying` rose while it waited and is back to 0.
    expect(Math.max(...retrying)).toBe(1);
    expect(delivery.retrying("telegram")).toBe(0);
  });

  test("a final refusal fails at once with its reason, one attempt", async () => {
    const { delivery, provider, ledger } = setup();
    provider.faults = [new SendError("final", "telegram refused the send: the user blocked the bot or the bot cannot write to this chat: 403 Forbidden: bot was blocked by the user")];
    await expect(send(delivery, "hi", "k-403")).rejects.toThrow("403");
    expect(provider.attempts.length).toBe(1);
    expect(ledger.byIdempotencyKey("k-403")).toMatchObject({ status: "failed", attempts: 1 });
    expect(ledger.byIdempotencyKey("k-403")!.reason).toContain("bot was blocked by the user");
  });

  test("a lost answer (outcome unknown) marks the part interrupted and never sends it again; the next part still goes", async () => {
    const { delivery, provider, ledger } = setup();
    provider.faults = [new SendError("unknown", "telegram's answer was lost (timed out): the message may have been sent")];
    const long = `${"a".repeat(3_000)}\n\n${"b".repeat(3_000)}`;
    await expect(send(delivery, long, "k-lost")).rejects.toThrow("may have gone out");
    expect(provider.attempts.length).toBe(2);
    expect(provider.sent.map((s) => s.message[0])).toEqual(["b"]);
    expect(ledger.byIdempotencyKey("k-lost")).toMatchObject({ status: "interrupted", attempts: 1 });
    expect(ledger.byIdempotencyKey("k-lost:part2")).toMatchObject({ status: "sent" });
    // A repeat of the key sends nothing: the outcome stays unknown.
    await expect(send(delivery, long, "k-lost")).rejects.toThrow("may have gone out");
    expect(provider.attempts.length).toBe(2);
  });

  test("still failing at the end of delivery.retryWindowMs: failed with the last error, retryable for the caller", async () => {
    const { delivery, provider, ledger } = setup({ retryWindowMs: 1_500 });
    provider.faults = Array.from({ length: 20 }, () => transient("Telegram answered 500 Internal Server Error"));
    const t0 = performance.now();
    await expect(send(delivery, "x", "k-window")).rejects.toMatchObject({ code: "UNAVAILABLE", retryable: true });
    expect(performance.now() - t0).toBeLessThan(5_000);
    const rec = ledger.byIdempotencyKey("k-window")!;
    expect(rec.status).toBe("failed");
    expect(rec.reason).toBe("UNAVAILABLE: Telegram answered 500 Internal Server Error (still failing at the end of delivery.retryWindowMs)");
    expect(rec.lastError).toBe("UNAVAILABLE: Telegram answered 500 Internal Server Error");
    expect(rec.attempts).toBeGreaterThanOrEqual(2);
    expect(provider.sent).toEqual([]);
  });

  test("a disconnected provider is waited for inside the window; the chat's later send keeps its place behind", async () => {
    const { delivery, provider } = setup();
    provider.connected = false;
    const first = send(delivery, "first");
    const second = send(delivery, "second");
    await Bun.sleep(1_000);
    expect(provider.attempts).toEqual([]);
    expect(delivery.retrying("telegram")).toBe(1);
    provider.connected = true;
    await Promise.all([first, second]);
    expect(provider.sent.map((s) => s.message)).toEqual(["first", "second"]);
  });
});

test("a provider stopped for good (not reconnecting) is not waited for", async () => {
  const { delivery, provider, ledger } = setup();
  provider.connected = false;
  provider.stopped = "connection replaced (440)";
  const t0 = performance.now();
  await expect(send(delivery, "x", "k-stopped")).rejects.toThrow("telegram is not connected: connection replaced (440)");
  expect(performance.now() - t0).toBeLessThan(1_000);
  expect(ledger.byIdempotencyKey("k-stopped")).toMatchObject({ status: "failed" });
});

describe("Queue ages on the monotonic clock (issue 22 §6)", () => {
  test("a wall-clock step of +1 day or −1 day while a send is paced neither fails nor delays it", async () => {
    for (const step of [86_400_000, -86_400_000]) {
      const clock = new SteppedClock();
      const { delivery, provider } = setup({ pacing: { perChatMinIntervalMs: 600 }, clock });
      await send(delivery, "one");
      const second = send(delivery, "two");
      await Bun.sleep(100);
      clock.offset += step;
      await second;
      const gap = provider.sent[1]!.at - provider.sent[0]!.at;
      expect(gap).toBeGreaterThanOrEqual(590);
      expect(gap).toBeLessThan(3_000);
    }
  });

  test("queued across a stop under a clock stepped +1 day: its age is the time it really waited, so it goes out after the restart", async () => {
    const clock = new SteppedClock();
    const first = setup({ pacing: { perChatMinIntervalMs: 60_000 }, clock });
    await send(first.delivery, "one");
    const waiting = send(first.delivery, "two", "k-step").catch((e: Error) => e);
    await Bun.sleep(50);
    clock.offset += 86_400_000 + 60_000;
    await first.delivery.stop();
    expect((await waiting) as Error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
    const provider = new ScriptedProvider();
    // Pacing from before the restart no longer holds it (that send was "a day ago" by the stepped wall clock).
    const later = setup({ dir: first.dir, provider, clock });
    await later.delivery.outcome("k-step");
    expect(provider.sent.map((s) => s.message)).toEqual(["two"]);
  });

  test("the age limit still holds across a restart: delivery.maxQueuedAgeMs of real waiting drops it with the reason", async () => {
    const clock = new SteppedClock();
    const first = setup({ pacing: { perChatMinIntervalMs: 60_000 }, clock });
    await send(first.delivery, "one");
    void send(first.delivery, "two", "k-old").catch(() => {});
    await Bun.sleep(50);
    await first.delivery.stop();
    clock.offset += 120_000; // down for two minutes
    const provider = new ScriptedProvider();
    const later = setup({ dir: first.dir, provider, clock, maxQueuedAgeMs: 60_000 });
    await expect(later.delivery.outcome("k-old")).rejects.toThrow("delivery.maxQueuedAgeMs (60000 ms)");
    expect(provider.sent).toEqual([]);
  });
});

describe("Never silent: the error reply (issue 21 §1)", () => {
  test("one per chat per cooldown, the reason as a short phrase; false turns it off", async () => {
    const sent: ProviderSendParams[] = [];
    let template: string | false = "Sorry, I couldn't answer that ({reason}). Please try again in a moment.";
    const clock = { wall: () => Date.now(), mono: () => now };
    let now = 0;
    const replies = new ErrorReplies({
      template: () => template,
      cooldownMs: () => 300_000,
      send: async (p) => (sent.push(p), { provider: "telegram", to: p.to, messageId: "1", ts: 0 }),
      log: silentLogger,
      clock,
    });
    const msg = (id: string, chat = "7") => ({ provider: "telegram" as const, chat, messageId: id });
    expect(replies.notify(msg("a"), { cause: "timeout" })).toBe("sent");
    now = 299_000;
    expect(replies.notify(msg("b"), { final: { runId: "r", status: "error", summary: "HTTP 500" }, cause: "error" })).toBe("cooldown");
    expect(replies.notify(msg("c", "8"), { final: { runId: "r", status: "error", summary: "HTTP 500" }, cause: "error" })).toBe("sent");
    now = 300_001;
    expect(replies.notify(msg("d"), { final: { runId: "r", status: "ok", summary: "" }, cause: "ok" })).toBe("sent");
    const undelivered = (details?: unknown) => ({
      final: { runId: "r", status: "ok" as const, summary: "hi", delivery: { ok: false, error: { code: "UNAVAILABLE" as const, message: "x", ...(details ? { details } : {}) } } },
      cause: "ok" as const,
    });
    // A reply whose answer was lost may be in the chat: no apology after it.
    expect(replies.notify(msg("f", "9"), undelivered({ outcome: "unknown" }))).toBe("maybe delivered");
    expect(replies.notify(msg("g", "9"), undelivered())).toBe("sent");
    template = false;
    now = 900_000;
    expect(replies.notify(msg("e"), { cause: "timeout" })).toBe("off");
    expect(sent.map((p) => [p.to, p.message, p.idempotencyKey])).toEqual([
      ["7", "Sorry, I couldn't answer that (the assistant timed out). Please try again in a moment.", "error-reply:telegram:a"],
      ["8", "Sorry, I couldn't answer that (the assistant ran into an error). Please try again in a moment.", "error-reply:telegram:c"],
      ["7", "Sorry, I couldn't answer that (the assistant's answer was empty). Please try again in a moment.", "error-reply:telegram:d"],
      ["9", "Sorry, I couldn't answer that (the reply could not be delivered). Please try again in a moment.", "error-reply:telegram:g"],
    ]);
  });
});
