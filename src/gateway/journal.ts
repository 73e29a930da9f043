import { utf8Length } from "../core/bytes.ts";

export interface JournalLimits {
  maxEvents: number;
  maxBytes: number;
  maxAgeMs: number;
}

interface Entry {
  n: number;
  /** The event frame up to its `seq` (the receiving connection adds that). */
  prefix: string;
  /**
   * The same event in the runbook's shape, when it has two (`presence`: the full list),
   * made on demand. Only the newest such entry keeps it: a full list supersedes the ones
   * before it, so older ones are `"superseded"` and not replayed in that shape.
   */
  full: (() => string) | "superseded" | undefined;
  /** UTF-8 bytes of the prefix. */
  bytes: number;
  ts: number;
}


export type ResumeResult = { ok: true; entries: string[] } | { ok: false; reason: string };

/**
 * Recent broadcast events, bounded by count, bytes and age, so a client that was away
 * can be given exactly what it missed. Cursors are `<epoch>.<n>`: the epoch names this
 * gateway process, so a cursor from before a restart is recognised as stale.
 */
export class Journal {
  readonly epoch: string;
  private entries: Entry[] = [];
  private head = 0;
  private bytes = 0;
  /** The entry holding the newest full shape, which the next one supersedes. */
  private lastFull: Entry | null = null;
  private n = 0;

  constructor(
    private readonly limits: JournalLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.epoch = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  /** The newest cursor (nothing after it yet). */
  get cursor(): string {
    return `${this.epoch}.${this.n}`;
  }

  /**
   * Number the event and keep its frame prefix (and, for an event with two shapes, how to
   * make the other); returns the cursor field to append to either shape.
   */
  append(eventPrefix: string, full?: () => string): string {
    this.n += 1;
    const cursor = this.cursorField(this.n);
    const prefix = eventPrefix + cursor;
    const now = this.now();
    // Real bytes (a UTF-16 unit of non-ASCII text is up to 3 of them), so maxBytes means bytes.
    const bytes = utf8Length(prefix);
    const entry: Entry = { n: this.n, prefix, full, bytes, ts: now };
    if (full) {
      if (this.lastFull) this.lastFull.full = "superseded";
      this.lastFull = entry;
    }
    this.entries.push(entry);
    this.bytes += bytes;
    this.trim(now);
    return cursor;
  }

  /**
   * Events after `cursor`, oldest first, each in the shape this client reads (`deltas`:
   * it announced `presence-deltas`); or why they cannot be had.
   */
  since(cursor: string, deltas = true): ResumeResult {
    this.trim(this.now());
    const dot = cursor.lastIndexOf(".");
    const epoch = cursor.slice(0, dot);
    const n = Number(cursor.slice(dot + 1));
    if (dot <= 0 || !Number.isInteger(n) || n < 0) return { ok: false, reason: "malformed cursor" };
    if (epoch !== this.epoch) return { ok: false, reason: "cursor from another gateway process (restarted?)" };
    if (n > this.n) return { ok: false, reason: "unknown cursor: ahead of this gateway" };
    const oldest = this.entries[this.head]?.n ?? this.n + 1;
    // Events n+1 … must all still be here.
    if (n + 1 < oldest) return { ok: false, reason: `cursor too old: the journal now starts after ${oldest - 1}` };
    const out: string[] = [];
    for (let i = this.head + (n + 1 - oldest); i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (deltas || e.full === undefined) out.push(e.prefix);
      // A client reading full lists needs only the newest one: the superseded are skipped.
      else if (e.full !== "superseded") out.push(e.full() + this.cursorField(e.n));
    }
    return { ok: true, entries: out };
  }

  private cursorField(n: number): string {
    return `,"cursor":"${this.epoch}.${n}"`;
  }

  private trim(now: number): void {
    const { maxEvents, maxBytes, maxAgeMs } = this.limits;
    while (this.head < this.entries.length) {
      const e = this.entries[this.head]!;
      if (this.size <= maxEvents && this.bytes <= maxBytes && now - e.ts <= maxAgeMs) break;
      this.bytes -= e.bytes;
      this.head += 1;
    }
    // Compact now and then, so dropped entries do not pin memory.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
