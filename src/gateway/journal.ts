export interface JournalLimits {
  maxEvents: number;
  maxBytes: number;
  maxAgeMs: number;
}

interface Entry {
  n: number;
  /** The event frame up to its `seq` (the receiving connection adds that). */
  prefix: string;
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

  get byteSize(): number {
    return this.bytes;
  }

  /** The newest cursor (nothing after it yet). */
  get cursor(): string {
    return `${this.epoch}.${this.n}`;
  }

  /** Number the event and keep its frame prefix; returns the prefix with the cursor in it. */
  append(eventPrefix: string): string {
    this.n += 1;
    const prefix = `${eventPrefix},"cursor":"${this.epoch}.${this.n}"`;
    const now = this.now();
    this.entries.push({ n: this.n, prefix, ts: now });
    this.bytes += prefix.length;
    this.trim(now);
    return prefix;
  }

  /** Events after `cursor`, oldest first; or why they cannot be had. */
  since(cursor: string): ResumeResult {
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
    for (let i = this.head + (n + 1 - oldest); i < this.entries.length; i++) out.push(this.entries[i]!.prefix);
    return { ok: true, entries: out };
  }

  private trim(now: number): void {
    const { maxEvents, maxBytes, maxAgeMs } = this.limits;
    while (this.head < this.entries.length) {
      const e = this.entries[this.head]!;
      if (this.size <= maxEvents && this.bytes <= maxBytes && now - e.ts <= maxAgeMs) break;
      this.bytes -= e.prefix.length;
      this.head += 1;
    }
    // Compact now and then, so dropped entries do not pin memory.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
