import { join } from "node:path";
import type { LedgerRecord, LedgerStatus, ProviderName } from "../protocol/index.ts";
import { JsonlFile } from "../store/jsonl.ts";

export interface LedgerOptions {
  dir: string;
  /** Keep message text in records (off by default: the ledger is not a message archive). */
  storeText: boolean;
  /** Records older than this are dropped (at start-up and rotation). */
  maxAgeMs: number;
  /** The active file rotates to `ledger.1.jsonl` past this size (UTF-8 bytes); one rotated file is kept. */
  maxFileBytes: number;
  /** Records held in memory (newest kept). */
  maxRecords: number;
  now?: () => number;
  /** A record was created or changed status (metrics count these transitions). */
  onTransition?: (record: LedgerRecord) => void;
  /** What was skipped or repaired when the file was read at start (one note per finding). */
  onRepair?: (note: string) => void;
  /** A write failed (the file was cut back to its last whole line; the record stays in memory, to be saved later). */
  onWriteError?: (err: Error) => void;
}

const FILE = "ledger.jsonl";
const ROTATED = "ledger.1.jsonl";

/**
 * What happened to every message: inbound ones (received → replied, skipped, duplicate,
 * failed) and outbound sends (sending → sent or failed), with the reason whenever one is
 * not handled. Append-only JSON lines under `<state>/ledger/` (the newest line of an id
 * wins; a torn last line is ignored), rotated by size in bytes and pruned by age. It is also the single
 * source for send idempotency and inbound de-duplication.
 */
export class Ledger {
  private readonly records = new Map<string, LedgerRecord>();
  private readonly byKey = new Map<string, string>();
  private readonly byProviderMessage = new Map<string, string>();
  /** Ids whose newest version is only in memory (its write failed); bounded by `records`. */
  private readonly unsaved = new Set<string>();
  private readonly file: JsonlFile<LedgerRecord>;
  private readonly now: () => number;

  constructor(private readonly opts: LedgerOptions) {
    this.now = opts.now ?? Date.now;
    this.file = new JsonlFile<LedgerRecord>(join(opts.dir, FILE), {
      maxFileBytes: opts.maxFileBytes,
      rotatedPath: join(opts.dir, ROTATED),
      ...(opts.onRepair ? { onRepair: opts.onRepair } : {}),
      // Records still open (or young) are carried over so nothing current lives only in the rotated file.
      carry: () => {
        const cutoff = this.now() - this.opts.maxAgeMs;
        return [...this.records.values()].filter((r) => r.updatedAt >= cutoff);
      },
    });
    const cutoff = this.now() - opts.maxAgeMs;
    for (const r of this.file.readAll()) {
      if (typeof r?.id === "string" && typeof r.updatedAt === "number" && r.updatedAt >= cutoff) this.index(readLegacy(r));
    }
    this.file.open();
    this.recoverInterrupted();
  }

  get(id: string): LedgerRecord | undefined {
    return this.records.get(id);
  }

  byIdempotencyKey(key: string): LedgerRecord | undefined {
    const id = this.byKey.get(key);
    return id ? this.records.get(id) : undefined;
  }

  /** The inbound record of a provider message, if it was seen before. */
  inbound(provider: ProviderName, providerMessageId: string): LedgerRecord | undefined {
    const id = this.byProviderMessage.get(`${provider}:${providerMessageId}`);
    return id ? this.records.get(id) : undefined;
  }

  /** Newest first, filtered. */
  list(filter: { limit?: number; since?: number; status?: LedgerStatus; direction?: "inbound" | "outbound" } = {}): LedgerRecord[] {
    const out: LedgerRecord[] = [];
    const all = [...this.records.values()].sort((a, b) => b.updatedAt - a.updatedAt || b.ts - a.ts);
    for (const r of all) {
      if (filter.since !== undefined && r.updatedAt < filter.since) continue;
      if (filter.status && r.status !== filter.status) continue;
      if (filter.direction && r.direction !== filter.direction) continue;
      out.push(r);
      if (out.length >= (filter.limit ?? 50)) break;
    }
    return out;
  }

  /** Records on the same path as `r`: same run, the reply to an inbound message, the message a reply answered. */
  related(r: LedgerRecord): LedgerRecord[] {
    return [...this.records.values()]
      .filter(
        (x) =>
          x.id !== r.id &&
          ((r.runId !== undefined && x.runId === r.runId) ||
            (r.idempotencyKey !== undefined && x.idempotencyKey?.startsWith(`${r.idempotencyKey}:`)) ||
            (x.idempotencyKey !== undefined && r.idempotencyKey?.startsWith(`${x.idempotencyKey}:`))),
      )
      .sort((a, b) => a.ts - b.ts);
  }

  /** Create a record; resolves once it is on disk. */
  create(fields: Omit<LedgerRecord, "id" | "ts" | "updatedAt">, text?: string): Promise<LedgerRecord> {
    const ts = this.now();
    const record: LedgerRecord = { id: `${ts.toString(36)}-${Math.random().toString(36).slice(2, 8)}`, ts, updatedAt: ts, ...fields };
    if (this.opts.storeText && text !== undefined) record.text = text;
    this.opts.onTransition?.(record);
    return this.write(record);
  }

  /** Move a record on (status, reason, runId…); resolves once it is on disk. */
  update(id: string, patch: Partial<Omit<LedgerRecord, "id" | "ts">>): Promise<LedgerRecord> {
    const current = this.records.get(id);
    if (!current) return Promise.reject(new Error(`ledger: no record ${id}`));
    const next: LedgerRecord = { ...current, ...patch, updatedAt: this.now() };
    if (patch.reason === undefined && patch.status && patch.status !== "failed" && patch.status !== "skipped" && patch.status !== "interrupted") delete next.reason;
    if (next.status !== current.status) this.opts.onTransition?.(next);
    return this.write(next);
  }

  private index(r: LedgerRecord): void {
    this.records.delete(r.id);
    this.records.set(r.id, r);
    if (r.idempotencyKey && r.direction === "outbound") this.byKey.set(r.idempotencyKey, r.id);
    if (r.providerMessageId && r.direction === "inbound" && r.status !== "duplicate") {
      this.byProviderMessage.set(`${r.provider}:${r.providerMessageId}`, r.id);
    }
    while (this.records.size > this.opts.maxRecords) this.unindex(this.records.values().next().value!);
  }

  private write(record: LedgerRecord): Promise<LedgerRecord> {
    this.index(record);
    return this.file.append(record).then(
      () => {
        this.unsaved.delete(record.id);
        return record;
      },
      (err: Error) => {
        // Memory keeps what happened (a send that went out stays `sent`, so a retry is
        // answered, not sent twice); the disk gets it once it has room (`saveUnsaved`).
        this.unsaved.add(record.id);
        this.opts.onWriteError?.(err);
        throw err;
      },
    );
  }

  /** Records whose newest version could not be written (a full disk). */
  get unsavedCount(): number {
    return this.unsaved.size;
  }

  /** Write the newest version of every record whose write failed; resolves when tried. */
  async saveUnsaved(): Promise<void> {
    for (const id of [...this.unsaved]) {
      const r = this.records.get(id);
      if (!r) this.unsaved.delete(id);
      else await this.file.append(r).then(() => this.unsaved.delete(id), (err: Error) => this.opts.onWriteError?.(err));
    }
  }

  private unindex(r: LedgerRecord): void {
    this.records.delete(r.id);
    this.unsaved.delete(r.id);
    if (r.idempotencyKey && this.byKey.get(r.idempotencyKey) === r.id) this.byKey.delete(r.idempotencyKey);
    const k = `${r.provider}:${r.providerMessageId}`;
    if (r.providerMessageId && this.byProviderMessage.get(k) === r.id) this.byProviderMessage.delete(k);
  }

  /** Sends in flight when the gateway died: their outcome is unknown, and they are not retried. */
  private recoverInterrupted(): void {
    for (const r of [...this.records.values()]) {
      if (r.status === "sending") {
        const fixed: LedgerRecord = { ...r, status: "interrupted", reason: "interrupted: the gateway stopped before the provider answered (outcome unknown)", updatedAt: this.now() };
        this.index(fixed);
        this.file.appendSync(fixed);
      }
    }
  }
}

/**
 * Compatibility with ledgers written before the `interrupted` status (issue 15): those
 * wrote it as `failed` with a reason — "interrupted…" for a send cut off mid-flight,
 * "agent run failed: shutdown" for a message whose run shutdown cut. Read as `interrupted`
 * so start-up decides on the status alone. The only place that still reads reason text.
 */
export function readLegacy(r: LedgerRecord): LedgerRecord {
  if (r.status !== "failed" || r.reason === undefined) return r;
  const legacy = (r.direction === "outbound" && r.reason.startsWith("interrupted")) || (r.direction === "inbound" && r.reason === "agent run failed: shutdown");
  return legacy ? { ...r, status: "interrupted" } : r;
}
