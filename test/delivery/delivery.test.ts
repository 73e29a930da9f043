/** Issue 16 §4 and §6, the provider-independent half: the delivery service against a fake provider and the real ledger. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Delivery, PacingQueue, type PacingOptions } from "../../src/delivery/index.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { silentLogger } from "../../src/log.ts";
import { GatewayError, type SendParams, type SendResult } from "../../src/protocol/index.ts";
import { Providers, type Provider } from "../../src/providers/index.ts";

/** A provider at the edge: records what it sent and when; can refuse chosen sends. */
class FakeProvider implements Provider {
  readonly name = "telegram" as const;
  sent: { to: string; message: string; at: number; mediaUrl?: string }[] = [];
  refuse = new Set<string>();
  connected = true;
  private next = 1;
  async start() {}
  async stop() {}
  status() {
    return { linked: true, connected: this.connected };
  }
  async send(p: SendParams): Promise<SendResult> {
    if (this.refuse.has(p.message)) throw new GatewayError("INVALID_REQUEST", "telegram refused the send: 400 Bad Request");
    this.sent.push({ to: p.to, message: p.message, at: Date.now(), ...(p.mediaUrl ? { mediaUrl: p.mediaUrl } : {}) });
    return { provider: "telegram", to: p.to, messageId: String(this.next++), ts: Date.now() };
  }
}

const squash = (s: string) => s.replace(/\s+/g, "");
const FAST: PacingOptions = { perChatMinIntervalMs: 0, perMinute: 10_000, jitterMs: 0 };

function setup(
  pacing: Partial<PacingOptions> = {},
  dir = mkdtempSync(join(tmpdir(), "clawdis-delivery-")),
  provider = new FakeProvider(),
  extra: { maxQueuedAgeMs?: number; captionChars?: { telegram?: number } } = {},
) {
  const ledger = new Ledger({ dir: join(dir, "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 });
  const changes: number[] = [];
  const delivery = new Delivery({
    ledger,
    providers: new Providers([provider]),
    outboxDir: join(dir, "outbox"),
    pacing: { whatsapp: FAST, telegram: { ...FAST, ...pacing } },
    maxChars: { whatsapp: 4096, telegram: 4096 },
    log: silentLogger,
    onQueueChange: () => changes.push(delivery.queued("telegram")),
    ...extra,
  });
  delivery.resume();
  return { dir, ledger, delivery, provider, changes };
}

const until = async (pred: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
};

describe("Delivery: once per idempotency key", () => {
  test("a repeat (concurrent or later) sends nothing more and gets the same answer", async () => {
    const { delivery, provider } = setup();
    const p = { to: "42", message: "hi", provider: "telegram" as const, idempotencyKey: "k1" };
    const [a, b] = await Promise.all([delivery.send(p), delivery.send(p)]);
    const c = await delivery.send(p);
    expect(provider.sent.length).toBe(1);
    expect(b).toEqual(a);
    expect(c.messageId).toBe(a.messageId);
  });

  test("a provider refusal is recorded and a retry may send", async () => {
    const { delivery, provider, ledger } = setup();
    provider.refuse.add("nope");
    const p = { to: "42", message: "nope", provider: "telegram" as const, idempotencyKey: "k2" };
    await expect(delivery.send(p)).rejects.toThrow("400");
    expect(ledger.byIdempotencyKey("k2")?.status).toBe("failed");
    expect(ledger.byIdempotencyKey("k2")?.reason).toContain("400");
    provider.refuse.clear();
    await delivery.send(p);
    expect(ledger.byIdempotencyKey("k2")?.status).toBe("sent");
  });
});

describe("Delivery: long replies (issue 16 §4)", () => {
  const long = Array.from({ length: 90 }, (_, i) => `Paragraph ${i}: ${"lorem ipsum ".repeat(8).trim()}.`).join("\n\n");

  test("sent as ordered parts ≤ the limit; every part a ledger record of the same send", async () => {
    const { delivery, provider, ledger } = setup();
    expect(long.length).toBeGreaterThan(8_192);
    const res = await delivery.send({ to: "42", message: long, provider: "telegram", idempotencyKey: "long" });
    expect(provider.sent.length).toBe(3);
    for (const s of provider.sent) expect(s.message.length).toBeLessThanOrEqual(4096);
    expect(provider.sent.map((s) => s.message).join("\n\n")).toBe(long);
    expect(res.messageIds).toEqual(["1", "2", "3"]);
    expect(res.messageId).toBe("1");
    const recs = [ledger.byIdempotencyKey("long"), ledger.byIdempotencyKey("long:part2"), ledger.byIdempotencyKey("long:part3")];
    expect(recs.map((r) => [r?.status, r?.part, r?.parts, r?.providerMessageId])).toEqual([
      ["sent", 1, 3, "1"],
      ["sent", 2, 3, "2"],
      ["sent", 3, 3, "3"],
    ]);
    expect(ledger.related(recs[0]!).map((r) => r.idempotencyKey)).toEqual(["long:part2", "long:part3"]);
  });

  test("with media, the first part is the caption (within the caption limit) and carries the media; the rest follow as text", async () => {
    const { delivery, provider } = setup({}, undefined, undefined, { captionChars: { telegram: 1024 } });
    const text = "Caption words here. ".repeat(120).trim();
    await delivery.send({ to: "42", message: text, mediaUrl: "https://example.com/cat.png", provider: "telegram", idempotencyKey: "media" });
    expect(provider.sent.length).toBe(2);
    expect(provider.sent[0]!.message.length).toBeLessThanOrEqual(1024);
    expect(provider.sent[0]!.mediaUrl).toBe("https://example.com/cat.png");
    expect(provider.sent[1]!.mediaUrl).toBeUndefined();
    expect(squash(provider.sent.map((s) => s.message).join(""))).toBe(squash(text));
  });

  test("a retry after a refused part sends only the parts not sent yet", async () => {
    const { delivery, provider, ledger } = setup();
    const parts = long.split("\n\n");
    const firstTry = delivery.send({ to: "42", message: long, provider: "telegram", idempotencyKey: "retry" });
    const origSend = provider.send.bind(provider);
    let calls = 0;
    provider.send = async (p) => {
      if (++calls === 2) throw new GatewayError("UNAVAILABLE", "telegram unreachable: reset");
      return origSend(p);
    };
    await expect(firstTry).rejects.toThrow("unreachable");
    expect(ledger.byIdempotencyKey("retry")?.status).toBe("sent");
    expect(ledger.byIdempotencyKey("retry:part2")?.status).toBe("failed");
    expect(ledger.byIdempotencyKey("retry:part3")).toMatchObject({ status: "failed", reason: "not sent: part 2 of 3 failed" });
    const sentBefore = provider.sent.length;
    const res = await delivery.send({ to: "42", message: long, provider: "telegram", idempotencyKey: "retry" });
    expect(provider.sent.length - sentBefore).toBe(2);
    expect(provider.sent.slice(1).map((s) => s.message.split("\n\n")[0])).not.toContain(parts[0]);
    expect(res.messageIds?.length).toBe(3);
    // And once everything went, a third call sends nothing.
    await delivery.send({ to: "42", message: long, provider: "telegram", idempotencyKey: "retry" });
    expect(provider.sent.length - sentBefore).toBe(2);
  });
});

describe("Delivery: paced sends (issue 16 §6)", () => {
  test("two sends to one chat at least perChatMinIntervalMs apart; another chat is not held up", async () => {
    const { delivery, provider } = setup({ perChatMinIntervalMs: 300 });
    const t0 = Date.now();
    const a = delivery.send({ to: "1", message: "a", provider: "telegram", idempotencyKey: "pa" });
    const b = delivery.send({ to: "1", message: "b", provider: "telegram", idempotencyKey: "pb" });
    const c = delivery.send({ to: "2", message: "c", provider: "telegram", idempotencyKey: "pc" });
    await Promise.all([a, b, c]);
    const at = Object.fromEntries(provider.sent.map((s) => [s.message, s.at]));
    expect(at.b! - at.a!).toBeGreaterThanOrEqual(300);
    expect(at.c! - t0).toBeLessThan(250);
    expect(provider.sent.map((s) => s.message)).toEqual(["a", "c", "b"]);
  });

  test("a waiting send is `queued` in the ledger and counted; the send answers when it went out", async () => {
    const { delivery, ledger, changes } = setup({ perChatMinIntervalMs: 400 });
    await delivery.send({ to: "1", message: "a", provider: "telegram", idempotencyKey: "qa" });
    let answered = false;
    const b = delivery.send({ to: "1", message: "b", provider: "telegram", idempotencyKey: "qb" }).then((r) => ((answered = true), r));
    await until(() => ledger.byIdempotencyKey("qb")?.status === "queued");
    expect(delivery.queued("telegram")).toBe(1);
    expect(answered).toBe(false);
    await b;
    expect(ledger.byIdempotencyKey("qb")?.status).toBe("sent");
    expect(delivery.queued("telegram")).toBe(0);
    expect(changes).toContain(1);
    expect(changes.at(-1)).toBe(0);
  });

  test("a queued send survives a restart and goes out once, with the same key, still paced", async () => {
    const first = setup({ perChatMinIntervalMs: 600 });
    await first.delivery.send({ to: "1", message: "a", provider: "telegram", idempotencyKey: "ra" });
    const b = first.delivery.send({ to: "1", message: "b", provider: "telegram", idempotencyKey: "rb" });
    await until(() => first.ledger.byIdempotencyKey("rb")?.status === "queued");
    const files = readdirSync(join(first.dir, "outbox"));
    expect(files.length).toBe(1);
    expect(statSync(join(first.dir, "outbox", files[0]!)).mode & 0o777).toBe(0o600);
    first.delivery.stop(); // what a crash leaves: the record queued, the outbox file on disk
    await expect(b).rejects.toThrow("goes out after the restart");
    const sentA = first.provider.sent[0]!.at;

    const provider = new FakeProvider();
    const second = setup({ perChatMinIntervalMs: 600 }, first.dir, provider);
    await until(() => provider.sent.length === 1);
    expect(provider.sent[0]!.message).toBe("b");
    expect(provider.sent[0]!.at - sentA).toBeGreaterThanOrEqual(590);
    expect(second.ledger.byIdempotencyKey("rb")?.status).toBe("sent");
    const again = await second.delivery.send({ to: "1", message: "b", provider: "telegram", idempotencyKey: "rb" });
    expect(again.messageId).toBe(second.ledger.byIdempotencyKey("rb")!.providerMessageId!);
    await Bun.sleep(50);
    expect(provider.sent.length).toBe(1);
    expect(readdirSync(join(first.dir, "outbox"))).toEqual([]);
  });

  test("a queued send waits out a provider that is reconnecting, then goes", async () => {
    const { delivery, provider, ledger } = setup({ perChatMinIntervalMs: 300 });
    await delivery.send({ to: "1", message: "a", provider: "telegram", idempotencyKey: "wa" });
    const b = delivery.send({ to: "1", message: "b", provider: "telegram", idempotencyKey: "wb" });
    await until(() => ledger.byIdempotencyKey("wb")?.status === "queued");
    provider.connected = false;
    await Bun.sleep(400);
    expect(ledger.byIdempotencyKey("wb")?.status).toBe("queued");
    provider.connected = true;
    await b;
    expect(provider.sent.map((s) => s.message)).toEqual(["a", "b"]);
  });

  test("a ledger that cannot write fails the send; the queue goes on with the next", async () => {
    const { delivery, provider, ledger } = setup({ perChatMinIntervalMs: 100 });
    const update = ledger.update.bind(ledger);
    let broken = true;
    ledger.update = (id, patch) => (broken && patch.status === "sending" ? Promise.reject(new Error("disk full")) : update(id, patch));
    await expect(delivery.send({ to: "1", message: "x", provider: "telegram", idempotencyKey: "dx" })).rejects.toThrow("disk full");
    broken = false;
    await delivery.send({ to: "1", message: "y", provider: "telegram", idempotencyKey: "dy" });
    expect(provider.sent.map((s) => s.message)).toEqual(["y"]);
    expect(delivery.queued("telegram")).toBe(0);
  });

  test("a send made while the gateway stops (a run's late reply) is kept and goes out after the restart", async () => {
    const first = setup();
    first.delivery.stop();
    await expect(first.delivery.send({ to: "1", message: "late reply", provider: "telegram", idempotencyKey: "late" })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      retryable: true,
    });
    expect(first.provider.sent).toEqual([]);
    expect(first.ledger.byIdempotencyKey("late")?.status).toBe("queued");
    const provider = new FakeProvider();
    setup({}, first.dir, provider);
    await until(() => provider.sent.length === 1);
    expect(provider.sent[0]!.message).toBe("late reply");
  });

  test("a send still queued a day later (the gateway was down) is dropped with a record, not sent late", async () => {
    const first = setup();
    first.delivery.stop();
    await first.delivery.send({ to: "1", message: "stale", provider: "telegram", idempotencyKey: "stale" }).catch(() => {});
    await Bun.sleep(10);
    const provider = new FakeProvider();
    const later = setup({}, first.dir, provider, { maxQueuedAgeMs: 1 });
    await until(() => later.ledger.byIdempotencyKey("stale")?.status === "failed");
    expect(later.ledger.byIdempotencyKey("stale")?.reason).toContain("more than delivery.maxQueuedAgeMs (1 ms)");
    await until(() => readdirSync(join(first.dir, "outbox")).length === 0);
    expect(provider.sent).toEqual([]);
  });

  test("a send the gateway died during is not sent again (outcome unknown)", async () => {
    const { dir, ledger } = setup();
    await ledger.create({ direction: "outbound", provider: "telegram", chat: "1", status: "sending", idempotencyKey: "lost" });
    const after = setup({}, dir);
    await expect(after.delivery.send({ to: "1", message: "x", provider: "telegram", idempotencyKey: "lost" })).rejects.toMatchObject({
      code: "UNAVAILABLE",
      retryable: false,
    });
    expect(after.provider.sent.length).toBe(0);
  });
});

describe("PacingQueue", () => {
  const job = (chat: string, log: string[], name = chat) => ({ chat, run: async () => (log.push(name), undefined) });

  test("perMinute counts sends made before (seeded) and waits for the minute to roll", async () => {
    const log: string[] = [];
    const q = new PacingQueue({ perChatMinIntervalMs: 0, perMinute: 2, jitterMs: 0 });
    const now = Date.now();
    q.seed([{ chat: "x", at: now - 60_000 + 200 }, { chat: "y", at: now - 60_000 + 250 }]);
    q.push(job("z", log));
    await Bun.sleep(100);
    expect(log).toEqual([]);
    await until(() => log.length === 1);
    expect(Date.now() - now).toBeGreaterThanOrEqual(190);
  });

  test("jitter adds up to jitterMs after each send to a chat", async () => {
    const log: string[] = [];
    const times: number[] = [];
    const q = new PacingQueue({ perChatMinIntervalMs: 50, perMinute: 100, jitterMs: 200 }, { random: () => 0.999 });
    for (const n of ["a", "b"]) q.push({ chat: "c", run: async () => (log.push(n), times.push(Date.now()), undefined) });
    await until(() => log.length === 2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(240);
  });

  test("a job that asks to wait is tried again later, and keeps its place before the chat's later jobs", async () => {
    const log: string[] = [];
    const q = new PacingQueue({ perChatMinIntervalMs: 0, perMinute: 100, jitterMs: 0 });
    let tries = 0;
    q.push({ chat: "c", run: async () => (++tries === 1 ? 80 : (log.push("first"), undefined)) });
    q.push(job("c", log, "second"));
    await until(() => log.length === 2);
    expect(log).toEqual(["first", "second"]);
    expect(tries).toBe(2);
  });
});
