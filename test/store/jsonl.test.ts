/** The one JSON-lines store: order, torn lines, rotation by real bytes, compaction. */
import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Ledger } from "../../src/gateway/ledger.ts";
import { IdempotencyStore, type IdemRecord } from "../../src/runs/idempotency.ts";
import { SessionStore, sessionFileName } from "../../src/agent/sessions.ts";
import { JsonlFile } from "../../src/store/jsonl.ts";
import { tempStateDir } from "../helpers/gateway.ts";

interface Rec {
  n: number;
  text?: string;
}
const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter(Boolean);
const mode = (path: string) => statSync(path).mode & 0o777;

describe("JsonlFile: ordered appends", () => {
  test("concurrent appends land in call order, each settling once on disk; files are 0600", async () => {
    const path = join(tempStateDir(), "sub", "a.jsonl");
    const file = new JsonlFile<Rec>(path);
    await Promise.all(Array.from({ length: 200 }, (_, n) => file.append({ n, text: "x".repeat(n % 7) })));
    expect(lines(path).map((l) => JSON.parse(l).n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    expect(mode(path)).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(file.lineCount).toBe(200);
    expect(file.bytes).toBe(statSync(path).size);
  });
});

describe("JsonlFile: a torn last line is ended, then skipped", () => {
  test("a crash mid-write neither loses the next record nor breaks reading; the torn line is moved aside and said once", async () => {
    const dir = tempStateDir();
    const path = join(dir, "torn.jsonl");
    writeFileSync(path, `${JSON.stringify({ n: 1 })}\n{"n":2,"text":"half`);
    const notes: string[] = [];
    const file = new JsonlFile<Rec>(path, { onRepair: (n) => notes.push(n) });
    expect(file.readAll()).toEqual([{ n: 1 }]);
    await file.append({ n: 3 });
    expect(lines(path)).toEqual(['{"n":1}', '{"n":3}']);
    const aside = readdirSync(dir).filter((n) => n.startsWith("torn.jsonl.corrupt-"));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), "utf8")).toBe('{"n":2,"text":"half');
    expect(notes).toEqual([`${path}: skipped a torn last line (moved aside to ${aside[0]})`]);
    expect(new JsonlFile<Rec>(path).readAll()).toEqual([{ n: 1 }, { n: 3 }]);
  });

  test("readTail drops the line the window cuts and a torn last line", async () => {
    const path = join(tempStateDir(), "tail.jsonl");
    const file = new JsonlFile<Rec>(path);
    for (let n = 0; n < 10; n++) await file.append({ n, text: "ü".repeat(10) });
    appendFileSync(path, '{"n":99,');
    const tail = await file.readTail(100);
    expect(tail.map((r) => r.n)).toEqual([8, 9]);
    expect(await new JsonlFile<Rec>(join(tempStateDir(), "missing.jsonl")).readTail(100)).toEqual([]);
  });
});

describe("JsonlFile: rotation by real UTF-8 bytes", () => {
  test("non-ASCII text rotates at its byte size, not its length in UTF-16 units", async () => {
    const dir = tempStateDir();
    const path = join(dir, "r.jsonl");
    // Each line: {"n":N,"text":"€€€…"} — 100 "€" are 100 UTF-16 units but 300 bytes.
    const text = "€".repeat(100);
    const lineBytes = Buffer.byteLength(`${JSON.stringify({ n: 0, text })}\n`);
    const file = new JsonlFile<Rec>(path, { maxFileBytes: lineBytes * 3 + 10, rotatedPath: join(dir, "r.1.jsonl"), carry: () => [] });
    for (let n = 0; n < 4; n++) await file.append({ n, text });
    // Counting UTF-16 units (~120 a line) would have kept all four lines in one file past its limit.
    expect(lines(join(dir, "r.1.jsonl")).map((l) => JSON.parse(l).n)).toEqual([0, 1, 2]);
    expect(lines(path).map((l) => JSON.parse(l).n)).toEqual([3]);
    expect(statSync(path).size).toBeLessThanOrEqual(lineBytes * 3 + 10);
    expect(file.bytes).toBe(statSync(path).size);
    // Reading back: the rotated generation first, then the active file.
    expect(new JsonlFile<Rec>(path, { rotatedPath: join(dir, "r.1.jsonl") }).readAll().map((r) => r.n)).toEqual([0, 1, 2, 3]);
  });

  test("a rotation starts the fresh file with the carried records", async () => {
    const dir = tempStateDir();
    const path = join(dir, "c.jsonl");
    const file = new JsonlFile<Rec>(path, { maxFileBytes: 20, carry: () => [{ n: -1 }] });
    for (let n = 0; n < 5; n++) await file.append({ n });
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(lines(path)[0]).toBe('{"n":-1}');
    expect(mode(path)).toBe(0o600);
  });
});

describe("JsonlFile: carried records larger than the file limit", () => {
  test("rotation waits for half a file of new lines instead of rewriting the carry on every append", async () => {
    const dir = tempStateDir();
    const path = join(dir, "big.jsonl");
    const carry = Array.from({ length: 20 }, (_, n) => ({ n: -n, text: "c".repeat(90) })); // ~2 KB > the limit
    let rotations = 0;
    const file = new JsonlFile<Rec>(path, {
      maxFileBytes: 1_000,
      carry: () => {
        rotations += 1;
        return carry;
      },
    });
    for (let n = 0; n < 100; n++) await file.append({ n, text: "x".repeat(90) }); // ~110 bytes a line
    // ~11 KB appended: a rotation per 500 new bytes at most, not one per append.
    expect(rotations).toBeGreaterThan(1);
    expect(rotations).toBeLessThanOrEqual(Math.ceil((100 * 110) / 500) + 1);
    expect(file.bytes).toBe(statSync(path).size);
    expect(statSync(path).size).toBeLessThanOrEqual(2_200 + 500 + 110);
  });
});

describe("JsonlFile: compaction", () => {
  test("rewrite replaces the file atomically, in order with appends around it", async () => {
    const path = join(tempStateDir(), "k.jsonl");
    const file = new JsonlFile<Rec>(path);
    const writes = [file.append({ n: 1 }), file.append({ n: 2 }), file.rewrite([{ n: 2 }]), file.append({ n: 3 })];
    expect(file.lineCount).toBe(2);
    await Promise.all(writes);
    expect(lines(path)).toEqual(['{"n":2}', '{"n":3}']);
    expect(mode(path)).toBe(0o600);
    expect(file.bytes).toBe(statSync(path).size);
  });
});

describe("The stores on top of it", () => {
  test("Ledger: the active file stays within maxFileBytes counted in UTF-8 bytes (non-ASCII text)", async () => {
    const dir = join(tempStateDir(), "ledger");
    let t = 0;
    // Each record is older than maxAgeMs by the next write, so a rotation carries nothing over.
    const opts = { dir, storeText: true, maxAgeMs: 500, maxFileBytes: 2_000, maxRecords: 1_000, now: () => (t += 1_000) };
    const ledger = new Ledger(opts);
    const text = "日本語".repeat(50); // 150 UTF-16 units, 450 bytes
    for (let i = 0; i < 6; i++) {
      await ledger.create({ direction: "inbound", provider: "telegram", status: "received" } as never, text);
      // Counting UTF-16 units (~300 a line) would let the file grow to ~3.6 KB before rotating.
      expect(statSync(join(dir, "ledger.jsonl")).size).toBeLessThanOrEqual(2_000);
    }
    expect(lines(join(dir, "ledger.1.jsonl")).length).toBeGreaterThan(0);
    expect(JSON.parse(lines(join(dir, "ledger.jsonl")).at(-1)!).text).toBe(text);
  });

  test("IdempotencyStore: a torn last line is skipped and the next record is not glued onto it", async () => {
    const path = join(tempStateDir(), "idem.jsonl");
    const ttl = { agent: 60_000 };
    const rec = (key: string): IdemRecord => ({ key, kind: "agent", state: "done", result: { ok: key }, ts: Date.now() });
    writeFileSync(path, `${JSON.stringify(rec("a"))}\n{"key":"b","kind":"ag`);
    const store = new IdempotencyStore(path, ttl);
    expect(store.get("agent", "a")?.result).toEqual({ ok: "a" });
    await store.put(rec("c"));
    const reopened = new IdempotencyStore(path, ttl);
    expect(reopened.get("agent", "c")?.result).toEqual({ ok: "c" });
    expect(reopened.size).toBe(2);
  });

  test("SessionStore: history survives a torn line and a restart", async () => {
    const dir = join(tempStateDir(), "sessions");
    const store = new SessionStore(dir, 10);
    await store.append("s/1", { runId: "r1", role: "user", content: "héllo", ts: 1 });
    await store.append("s/1", { runId: "r1", role: "assistant", content: "wörld", ts: 2 });
    appendFileSync(join(dir, sessionFileName("s/1")), '{"runId":"r2","role":"us');
    const again = new SessionStore(dir, 10);
    await again.append("s/1", { runId: "r3", role: "user", content: "again", ts: 3 });
    await again.append("s/1", { runId: "r3", role: "assistant", content: "ok", ts: 4 });
    expect(await new SessionStore(dir, 10).history("s/1")).toEqual([
      { user: "héllo", assistant: "wörld" },
      { user: "again", assistant: "ok" },
    ]);
  });
});
