/** State directories that hold secrets or messages are 0700 even when they already existed with a looser mode. */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initAuthCreds } from "@whiskeysockets/baileys";
import { SessionStore } from "../../src/agent/sessions.ts";
import { privateDir } from "../../src/core/atomic.ts";
import { Outbox } from "../../src/delivery/outbox.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { PendingInboundStore } from "../../src/gateway/inbound-pending.ts";
import { PairingStore } from "../../src/inbound/pairing.ts";
import { InboundMediaStore } from "../../src/media/index.ts";
import { WhatsAppAuthStore } from "../../src/providers/whatsapp/auth-store.ts";

/** A directory made 0755 beforehand, as an older version or a user's `mkdir` leaves it. */
function loose(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "clawdis-dirs-")), name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  expect(statSync(dir).mode & 0o777).toBe(0o755);
  return dir;
}
const mode = (dir: string) => statSync(dir).mode & 0o777;

describe("existing state directories are tightened to 0700", () => {
  test("pairing", async () => {
    const dir = loose("pairing");
    const store = new PairingStore(dir);
    await store.add("telegram", "42", "ABCDEFGH");
    expect(mode(dir)).toBe(0o700);
    expect(statSync(join(dir, "telegram.json")).mode & 0o777).toBe(0o600);
  });

  test("outbox", async () => {
    const dir = loose("outbox");
    const outbox = new Outbox(dir);
    expect(mode(dir)).toBe(0o700);
    await outbox.put({ key: "k", provider: "telegram", to: "1", parts: ["hi"], createdAt: Date.now() });
    expect(outbox.load()).toHaveLength(1);
  });

  test("inbound (messages kept for a restart)", async () => {
    const dir = loose("inbound");
    await new PendingInboundStore(dir).add({ recordId: "r1", at: Date.now(), message: { provider: "telegram", chat: "1", sender: "1", senderNames: [], messageId: "1:1", text: "hi" } } as never);
    expect(mode(dir)).toBe(0o700);
  });

  test("media", async () => {
    const dir = loose("inbound-media");
    await new InboundMediaStore(dir, () => ({ maxInboundBytes: 100, maxTotalBytes: 1_000 })).save({ kind: "image", mime: "image/png", data: new Uint8Array(3) });
    expect(mode(dir)).toBe(0o700);
  });

  test("ledger (one JSON-lines store: message records)", async () => {
    const dir = loose("ledger");
    const ledger = new Ledger({ dir, storeText: true, maxAgeMs: 86_400_000, maxFileBytes: 1 << 20, maxRecords: 100 });
    expect(mode(dir)).toBe(0o700);
    await ledger.create({ direction: "inbound", provider: "telegram", chat: "1", status: "received" }, "hello");
    expect(statSync(join(dir, "ledger.jsonl")).mode & 0o777).toBe(0o600);
  });

  test("sessions (conversation text)", async () => {
    const dir = loose("sessions");
    await new SessionStore(dir, 10).append("s1", { role: "user", runId: "r1", content: "hello", ts: Date.now() } as never);
    expect(mode(dir)).toBe(0o700);
  });

  test("privateDir tightens an existing directory and makes missing parents 0700", () => {
    const dir = loose("again");
    privateDir(dir);
    expect(mode(dir)).toBe(0o700);
    const nested = join(dir, "a", "b");
    privateDir(nested);
    expect(mode(nested)).toBe(0o700);
  });

  test("WhatsApp credentials", async () => {
    const dir = loose("whatsapp");
    await new WhatsAppAuthStore(dir).saveCreds(initAuthCreds());
    expect(mode(dir)).toBe(0o700);
  });
});
