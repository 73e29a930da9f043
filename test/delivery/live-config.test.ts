/** Delivery reads `pacing` and `maxMessageChars` from the config in force: a reload applies to the next send. */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Delivery, type PacingOptions } from "../../src/delivery/index.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { silentLogger } from "../../src/log.ts";
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
