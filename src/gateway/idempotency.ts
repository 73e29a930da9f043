import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { appendFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { endTornLine } from "../jsonl.ts";

/** One remembered request: what it was, and how far it got. */
export interface IdemRecord {
  key: string;
  kind: "agent";
  /** `pending`: started, outcome not yet known; `done`: `result` holds it; `failed`: forget the key. */
  state: "pending" | "done" | "failed";
  runId?: string;
  result?: unknown;
  ts: number;
}

/**
 * Agent idempotency keys on disk (`<state>/idempotency.jsonl`), so a retry after a gateway
 * restart — even after kill -9 — is answered from what happened instead of doing the
 * work again. A key is written as `pending` before its work starts and as `done` with
 * the result before the result is acknowledged. Bounded by TTL and entry count; the
 * file is compacted at start-up.
 */
export class IdempotencyStore {
  private readonly records = new Map<string, IdemRecord>();
  private chain: Promise<void> = Promise.resolve();
  /** Lines in the file, live or dead, to know when to compact it. */
  private lines = 0;

  constructor(
    private readonly file: string,
    private readonly ttlMs: Record<IdemRecord["kind"], number>,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    this.load();
  }

  get(kind: IdemRecord["kind"], key: string): IdemRecord | undefined {
    const r = this.records.get(`${kind}:${key}`);
    if (r && this.now() - r.ts > this.ttlMs[kind]) {
      this.records.delete(`${kind}:${key}`);
      return undefined;
    }
    return r;
  }

  /** Record and persist; resolves once the line is written. Writes keep their order. */
  put(record: IdemRecord): Promise<void> {
    const id = `${record.kind}:${record.key}`;
    this.records.delete(id);
    if (record.state !== "failed") this.records.set(id, record);
    this.evict();
    const line = `${JSON.stringify(record)}\n`;
    this.lines += 1;
    // A long-running gateway would grow the file forever: rewrite it once it is mostly dead lines.
    const compact = this.lines > 10_000 && this.lines > 4 * this.records.size;
    const write = this.chain.then(() => (compact ? this.compact() : appendFile(this.file, line, { mode: 0o600 })));
    this.chain = write.catch(() => {});
    return write;
  }

  /** Expired records go first (insertion order is time order), then the oldest past the cap. */
  private evict(): void {
    const now = this.now();
    for (const [id, r] of this.records) {
      if (now - r.ts <= this.ttlMs[r.kind] && this.records.size <= this.maxEntries) break;
      this.records.delete(id);
    }
  }

  private async compact(): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, [...this.records.values()].map((r) => `${JSON.stringify(r)}\n`).join(""), { mode: 0o600 });
    await rename(tmp, this.file);
    this.lines = this.records.size;
  }

  get size(): number {
    return this.records.size;
  }

  private load(): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    let text = "";
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    let lines = 0;
    for (const raw of text.split("\n")) {
      if (!raw) continue;
      lines += 1;
      try {
        const r = JSON.parse(raw) as IdemRecord;
        if (typeof r.key !== "string" || !(r.kind in this.ttlMs)) continue;
        if (this.now() - r.ts > this.ttlMs[r.kind]) continue;
        const id = `${r.kind}:${r.key}`;
        this.records.delete(id);
        if (r.state !== "failed") this.records.set(id, r);
      } catch {
        // A torn last line from a crash: skip it.
      }
    }
    while (this.records.size > this.maxEntries) this.records.delete(this.records.keys().next().value!);
    this.lines = this.records.size;
    if (lines > this.records.size) {
      // Compact: write the live records to a temp file, then rename over the old one.
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, [...this.records.values()].map((r) => `${JSON.stringify(r)}\n`).join(""), { mode: 0o600 });
      renameSync(tmp, this.file);
    } else if (lines === 0) {
      appendFileSync(this.file, "", { mode: 0o600 });
    } else endTornLine(this.file);
  }
}
