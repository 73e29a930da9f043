import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { InboundMessage } from "../providers/types.ts";
import { privateDir, writeAtomic } from "../core/atomic.ts";
import { readJsonOrAside } from "../store/corrupt.ts";

/** One message whose run has not ended yet, kept so a restart can answer it. */
export interface PendingInbound {
  /** Its ledger record. */
  recordId: string;
  message: InboundMessage;
  /** When it was first taken in. */
  at: number;
  /** Already run once more after a restart: a second restart does not run it again. */
  retried?: boolean;
}

const isPending = (v: unknown): boolean => {
  const p = v as Partial<PendingInbound> | null;
  return typeof p?.recordId === "string" && typeof p.message?.text === "string" && typeof p.at === "number";
};

/** More than this many unanswered messages on disk is a flood, not a restart: the oldest are dropped. */
const MAX_PENDING = 1_000;

/**
 * Messages taken in whose agent run has not ended, one small file each under
 * `<state>/inbound/` (0600, atomic). A file lives from "received" until the run ends,
 * so after a crash or restart exactly the unanswered messages are left. The ledger
 * keeps no text by default; this is where the text waits, and only while it must.
 */
export class PendingInboundStore {
  constructor(
    private readonly dir: string,
    /** Told at start what was unreadable and moved aside. */
    private readonly warn: (note: string) => void = () => {},
  ) {}

  private path(recordId: string): string {
    return join(this.dir, `${recordId.replace(/[^a-zA-Z0-9_-]/g, "_")}.json`);
  }

  add(p: PendingInbound): Promise<void> {
    // Message text: the directory is private, also one an older version left 0755.
    privateDir(this.dir);
    return writeAtomic(this.path(p.recordId), JSON.stringify(p));
  }

  remove(recordId: string): void {
    rmSync(this.path(recordId), { force: true });
  }

  /** Everything left behind, oldest first (beyond `MAX_PENDING`, the oldest are removed). */
  list(): PendingInbound[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith(".json"));
    } catch {
      return [];
    }
    const all: PendingInbound[] = [];
    for (const n of names) {
      // Damaged on disk: its message cannot be answered; the file is kept aside as evidence.
      const p = readJsonOrAside<PendingInbound>(join(this.dir, n), isPending, this.warn);
      if (p) all.push(p);
    }
    all.sort((a, b) => a.at - b.at);
    for (const p of all.slice(0, Math.max(0, all.length - MAX_PENDING))) this.remove(p.recordId);
    return all.slice(-MAX_PENDING);
  }
}
