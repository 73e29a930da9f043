import { JsonlFile } from "../store/jsonl.ts";
import { copyAside } from "../store/corrupt.ts";

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
  private readonly file: JsonlFile<IdemRecord>;

  constructor(
    path: string,
    private readonly ttlMs: Record<IdemRecord["kind"], number>,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
    /** Told what was skipped or repaired at start (a torn last line). */
    private readonly onRepair?: (note: string) => void,
  ) {
    this.file = new JsonlFile<IdemRecord>(path, onRepair ? { onRepair } : {});
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
    // A long-running gateway would grow the file forever: rewrite it once it is mostly dead lines.
    const lines = this.file.lineCount + 1;
    if (lines > 10_000 && lines > 4 * this.records.size) return this.file.rewrite([...this.records.values()]);
    return this.file.append(record);
  }

  /** Expired records go first (insertion order is time order), then the oldest past the cap. */
  private evict(): void {
    const now = this.now();
    for (const [id, r] of this.records) {
      if (now - r.ts <= this.ttlMs[r.kind] && this.records.size <= this.maxEntries) break;
      this.records.delete(id);
    }
  }

  get size(): number {
    return this.records.size;
  }

  private load(): void {
    for (const r of this.file.readAll()) {
      if (typeof r?.key !== "string" || !(r.kind in this.ttlMs)) continue;
      if (this.now() - r.ts > this.ttlMs[r.kind]) continue;
      const id = `${r.kind}:${r.key}`;
      this.records.delete(id);
      if (r.state !== "failed") this.records.set(id, r);
    }
    while (this.records.size > this.maxEntries) this.records.delete(this.records.keys().next().value!);
    // Compact at start-up: only live records are written back; unreadable lines are evidence, copied aside first.
    if (this.file.lineCount > this.records.size) {
      if (this.file.unreadable > 0) this.onRepair?.(copyAside(this.file.path));
      this.file.rewriteSync([...this.records.values()]);
    }
    this.file.open();
  }
}
