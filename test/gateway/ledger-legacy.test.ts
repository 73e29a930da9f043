/** Issue 15 §3: outcomes are typed (`interrupted`), and ledgers written before that status still read right. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ledger, readLegacy } from "../../src/gateway/ledger.ts";
import type { LedgerRecord } from "../../src/protocol/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const open = (dir: string) => new Ledger({ dir, storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 });

function rec(id: string, fields: Partial<LedgerRecord>): LedgerRecord {
  const ts = Date.now();
  return { id, ts, updatedAt: ts, direction: "outbound", provider: "telegram", chat: "7", status: "failed", ...fields } as LedgerRecord;
}

describe("Ledger status interrupted", () => {
  test("an old ledger's failed + reason 'interrupted…' / 'agent run failed: shutdown' reads as interrupted at start-up", () => {
    const dir = mkdtempSync(join(tmpdir(), "clawdis-ledger-legacy-"));
    dirs.push(dir);
    mkdirSync(dir, { recursive: true });
    const old = [
      rec("a", { idempotencyKey: "k1", reason: "interrupted: the gateway stopped before the provider answered (outcome unknown)" }),
      rec("b", { direction: "inbound", providerMessageId: "m1", reason: "agent run failed: shutdown" }),
      rec("c", { idempotencyKey: "k2", reason: "UNAVAILABLE: telegram is down" }),
      rec("d", { direction: "inbound", providerMessageId: "m2", reason: "agent run failed: timeout" }),
      // Only an outbound send is "interrupted…" by reason; an inbound one with such text stays failed.
      rec("e", { direction: "inbound", providerMessageId: "m3", reason: "interrupted by the user" }),
    ];
    writeFileSync(join(dir, "ledger.jsonl"), old.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const ledger = open(dir);
    expect(ledger.get("a")?.status).toBe("interrupted");
    expect(ledger.get("b")?.status).toBe("interrupted");
    expect(ledger.get("c")?.status).toBe("failed");
    expect(ledger.get("d")?.status).toBe("failed");
    expect(ledger.get("e")?.status).toBe("failed");
    expect(ledger.list({ status: "interrupted" }).map((r) => r.id).sort()).toEqual(["a", "b"]);
  });

  test("a send left `sending` by a crash becomes interrupted (not failed), its reason kept for people", () => {
    const dir = mkdtempSync(join(tmpdir(), "clawdis-ledger-legacy-"));
    dirs.push(dir);
    writeFileSync(join(dir, "ledger.jsonl"), JSON.stringify(rec("s", { status: "sending", idempotencyKey: "k" })) + "\n");
    const r = open(dir).get("s");
    expect(r?.status).toBe("interrupted");
    expect(r?.reason).toContain("outcome unknown");
    // And it is written so: a second start reads interrupted without any reason matching.
    expect(open(dir).get("s")?.status).toBe("interrupted");
  });

  test("readLegacy leaves records of the current format alone", () => {
    const r = rec("x", { status: "interrupted", reason: "anything" });
    expect(readLegacy(r)).toBe(r);
    const sent = rec("y", { status: "sent" });
    expect(readLegacy(sent)).toBe(sent);
  });
});
