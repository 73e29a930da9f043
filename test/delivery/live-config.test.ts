/** Delivery reads `pacing` and `maxMessageChars` from the config in force: a reload applies to the next send. */
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Delivery, type PacingOptions } from "../../src/delivery/index.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { silentLogger } from "../../src/log.ts";
import { GatewayError } from "../../src/protocol/index.ts";
import { Providers, type Provider } from "../../src/providers/index.ts";

const FAST: PacingOptions = { perChatMinIntervalMs: 0, perMinute: 10_000, jitterMs: 0 };

test("maxChars and pacing given as getters are read at each send", async () => {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-live-"));
  const sent: { message: string; at: number }[] = [];
  const telegram: Provider = {
    name: "telegram",
    start: async () => {},
    stop: async () => {},
    status: () => ({ linked: true, connected: true }),
    send: async (p) => (sent.push({ message: p.message, at: Date.now() }), { provider: "telegram", to: p.to, messageId: String(sent.length), ts: Date.now() }),
  };
  const live = { maxChars: 4096, gap: 0 };
  const delivery = new Delivery({
    ledger: new Ledger({ dir: join(dir, "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 }),
    providers: new Providers([telegram]),
    outboxDir: join(dir, "outbox"),
    pacing: () => ({ whatsapp: FAST, telegram: { ...FAST, perChatMinIntervalMs: live.gap } }),
    maxChars: () => ({ whatsapp: 4096, telegram: live.maxChars }),
    log: silentLogger,
  });
  delivery.resume();
  const text = "A sentence of some length. ".repeat(20).trim();
  await delivery.send({ to: "1", message: text, provider: "telegram", idempotencyKey: "before" });
  expect(sent.length).toBe(1);
  // The reload.
  live.maxChars = 200;
  live.gap = 300;
  await delivery.send({ to: "1", message: text, provider: "telegram", idempotencyKey: "after" });
  const parts = sent.slice(1);
  expect(parts.length).toBe(3);
  for (const p of parts) expect(p.message.length).toBeLessThanOrEqual(200);
  expect(parts[1]!.at - parts[0]!.at).toBeGreaterThanOrEqual(290);
});

test("a retry after a maxMessageChars change sends the rest of the first split, not a new one (review of issue 16, point 7)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-live-"));
  const sent: string[] = [];
  let refuse = 2;
  const telegram: Provider = {
    name: "telegram",
    start: async () => {},
    stop: async () => {},
    status: () => ({ linked: true, connected: true }),
    send: async (p) => {
      if (--refuse === 0) throw new GatewayError("UNAVAILABLE", "telegram unreachable: reset");
      sent.push(p.message);
      return { provider: "telegram", to: p.to, messageId: String(sent.length), ts: Date.now() };
    },
  };
  const live = { maxChars: 200 };
  const make = () =>
    new Delivery({
      ledger: new Ledger({ dir: join(dir, "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 }),
      providers: new Providers([telegram]),
      outboxDir: join(dir, "outbox"),
      pacing: () => ({ whatsapp: FAST, telegram: FAST }),
      maxChars: () => ({ whatsapp: 4096, telegram: live.maxChars }),
      log: silentLogger,
    });
  let delivery = make();
  delivery.resume();
  const text = Array.from({ length: 6 }, (_, i) => `Sentence number ${i} of a reply that is long enough to need cutting somewhere.`).join(" ");
  const first = await delivery.send({ to: "1", message: text, provider: "telegram", idempotencyKey: "k" }).catch((e: Error) => e);
  expect(String(first)).toContain("unreachable");
  expect(sent.length).toBe(1);
  const original = sent[0]!;
  // The reload (and a restart: the split must come from disk, not memory).
  live.maxChars = 300;
  delivery.stop();
  delivery = make();
  delivery.resume();
  const res = await delivery.send({ to: "1", message: text, provider: "telegram", idempotencyKey: "k" });
  // Nothing sent twice, nothing lost: the parts after the first are those of the 200-character split.
  const squash = (s: string) => s.replace(/\s+/g, "");
  expect(squash(sent.join(""))).toBe(squash(text));
  expect(sent[0]).toBe(original);
  for (const part of sent) expect(part.length).toBeLessThanOrEqual(200);
  expect(res.messageIds).toHaveLength(sent.length);
  // Once sent in full, the kept split is gone.
  expect(readdirSync(join(dir, "outbox")).filter((n) => n.endsWith(".json"))).toEqual([]);
});
