import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { ProviderName } from "../protocol/index.ts";
import { privateDir, readJson, writeAtomic } from "../core/atomic.ts";
import { readJsonOrAside } from "../store/corrupt.ts";

/** A send that has not finished: what is needed to send it after a restart. */
export interface OutboxEntry {
  key: string;
  provider: ProviderName;
  to: string;
  mediaUrl?: string;
  /** A file on disk (an agent's `MEDIA:` path, checked against `agent.mediaDirs`). */
  mediaPath?: string;
  /** An agent's `MEDIA:` file: one that cannot be fetched or read ends `skipped`, not `failed`. */
  mediaOptional?: boolean;
  /** The parts are Telegram HTML (an agent's reply rendered from Markdown). */
  html?: boolean;
  /** The provider's id of the message this send answers; the first part replies to it. */
  replyTo?: string;
  /** The message as it goes out (one part, or the split of a long one). */
  parts: string[];
  createdAt: number;
  /** Set when a gateway stopped with the send still queued: how long it had waited while a gateway ran (monotonic ms)… */
  agedMs?: number;
  /** …and when (wall clock) that was noted; its age after the restart adds the time since. */
  savedAt?: number;
  /**
   * The send failed (a part was refused): kept, not resumed, only so that a retry with
   * the same key sends the same parts — a `maxMessageChars` changed meanwhile must not re-split it.
   */
  failedAt?: number;
}

const isEntry = (e: unknown): boolean => {
  const x = e as Partial<OutboxEntry> | null;
  return typeof x?.key === "string" && Array.isArray(x.parts) && typeof x.to === "string";
};

/**
 * How long a send from the outbox has been waiting: the time it waited while a gateway
 * ran (monotonic, noted at the stop) plus the time the gateway was down (wall clock, the
 * only clock that spans it). After a kill -9 nothing was noted: the wall clock since it was made.
 */
export function queuedAge(entry: OutboxEntry, now: number): number {
  return entry.savedAt === undefined ? now - entry.createdAt : (entry.agedMs ?? 0) + Math.max(0, now - entry.savedAt);
}

/**
 * Queued sends on disk (`<state>/outbox/`, one 0600 file per send, written atomically),
 * so a send waiting for its turn survives a restart or a kill -9. The text lives here
 * only until the send is done; the ledger keeps the record.
 */
export class Outbox {
  constructor(
    private readonly dir: string,
    /** Told at load what was unreadable and moved aside. */
    private readonly warn: (note: string) => void = () => {},
  ) {
    privateDir(dir);
  }

  private file(key: string): string {
    return join(this.dir, `${createHash("sha256").update(key).digest("hex").slice(0, 40)}.json`);
  }

  put(entry: OutboxEntry): Promise<void> {
    return writeAtomic(this.file(entry.key), JSON.stringify(entry));
  }

  /** The entry of `key`, if one is on disk. */
  get(key: string): OutboxEntry | undefined {
    const e = readJson<OutboxEntry | null>(this.file(key), null);
    return e?.key === key && Array.isArray(e.parts) ? e : undefined;
  }

  async delete(key: string): Promise<void> {
    await unlink(this.file(key)).catch(() => {});
  }

  /** Every entry on disk, oldest first; unreadable files (a torn temp file) are skipped. */
  load(): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      // Unreadable (damaged on disk): the send cannot be made; the file is kept aside, not deleted.
      const e = readJsonOrAside<OutboxEntry>(join(this.dir, name), isEntry, this.warn);
      if (e) out.push(e);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }
}
