/** The log file rotates by the UTF-8 bytes it wrote, not by UTF-16 units. */
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { tempStateDir } from "../helpers/gateway.ts";

describe("log: maxFileBytes counts UTF-8 bytes", () => {
  test("non-ASCII records rotate the file within its limit (plus the one record that crossed it)", async () => {
    const file = join(tempStateDir(), "logs", "gateway.log");
    const maxFileBytes = 4_000;
    const log = createLogger({ file, maxFileBytes, stdoutLevel: "error", write: () => {} });
    const msg = "日本語".repeat(30); // 90 UTF-16 units, 270 bytes
    for (let i = 0; i < 40; i++) {
      log.info(msg, { i });
      // Let the stream open and drain, as it does between a gateway's records.
      await new Promise((r) => setTimeout(r, 1));
    }
    await log.close();
    const rotated = statSync(`${file}.1`).size;
    const lineBytes = Buffer.byteLength(JSON.stringify({ ts: new Date().toISOString(), level: "info", scope: "gateway", msg, i: 10 })) + 1;
    // Counting UTF-16 units, the file grew to ~2.6× the limit before rotating.
    expect(rotated).toBeGreaterThan(maxFileBytes);
    expect(rotated).toBeLessThanOrEqual(maxFileBytes + lineBytes);
    expect(statSync(file).size).toBeLessThanOrEqual(maxFileBytes + lineBytes);
  });

  test("a burst that rotates before the stream opened its file still splits at the limit", async () => {
    const file = join(tempStateDir(), "logs", "burst.log");
    const log = createLogger({ file, maxFileBytes: 1_000, stdoutLevel: "error", write: () => {} });
    for (let i = 0; i < 12; i++) log.info("é".repeat(100), { i }); // ~260 bytes each, all in one turn
    await log.close();
    expect(statSync(file).size).toBeLessThanOrEqual(1_300);
    expect(statSync(`${file}.1`).size).toBeGreaterThan(0);
  });
});
