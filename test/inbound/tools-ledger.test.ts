/** Issue 24 §3: a chat message's record lists the tools its run called; what went in and out only with ledger.storeText. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ToolUse } from "../../src/agent/types.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { InboundGate, PairingStore, handleChatMessage, type ChatPolicy } from "../../src/inbound/index.ts";
import { silentLogger } from "../../src/log.ts";

const USES: ToolUse[] = [
  { name: "fs__read_file", ok: true, ms: 12, args: { path: "todo.md" }, result: "buy milk" },
  { name: "fs__write_file", ok: false, ms: 3, args: { path: "x" }, result: "error: denied" },
];

/** A final that never comes: the run's deadline passed (handled later, as the runner's is). */
function timeout(): Promise<never> {
  const done = Promise.reject(new Error("agent did not finish within 1000 ms"));
  done.catch(() => {});
  return done;
}

async function recordAfterRun(storeText: boolean, timedOut = false) {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-tools-ledger-"));
  const ledger = new Ledger({ dir: join(dir, "ledger"), storeText, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 });
  const policy: ChatPolicy = { dmPolicy: "open", allowFrom: [], groups: { policy: "disabled", allow: [], requireMention: true } };
  await handleChatMessage(
    {
      ledger,
      gate: new InboundGate(() => policy, new PairingStore(join(dir, "pairing"))),
      send: async () => {
        throw new Error("no sends here");
      },
      log: silentLogger,
      storeText: () => storeText,
      startRun: async () => ({
        runId: "run-1",
        done: timedOut ? timeout() : Promise.resolve({ runId: "run-1", status: "ok" as const, summary: "done", delivery: { ok: true } }),
        cause: Promise.resolve(timedOut ? ("timeout" as const) : ("ok" as const)),
        tools: Promise.resolve(USES),
      }),
    },
    { provider: "telegram", chat: "7", sender: "7", senderNames: ["@al"], messageId: "m1", text: "read my todo" },
  );
  await Bun.sleep(10);
  return ledger.list({ direction: "inbound" }).find((r) => r.providerMessageId === "m1")!;
}

describe("the ledger's tools per inbound message", () => {
  test("names, outcome and time only, by default", async () => {
    const rec = await recordAfterRun(false);
    expect(rec.status).toBe("replied");
    expect(rec.tools).toEqual([
      { name: "fs__read_file", ok: true, ms: 12 },
      { name: "fs__write_file", ok: false, ms: 3 },
    ]);
  });

  test("arguments and results too with ledger.storeText", async () => {
    const rec = await recordAfterRun(true);
    expect(rec.tools).toEqual(USES);
  });

  test("a run past its deadline: the calls it made are in the failed record", async () => {
    const rec = await recordAfterRun(false, true);
    expect(rec.status).toBe("failed");
    expect(rec.tools?.map((t) => t.name)).toEqual(["fs__read_file", "fs__write_file"]);
  });
});
