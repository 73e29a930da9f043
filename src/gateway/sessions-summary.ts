import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** What `health.sessions` reports. */
export interface SessionsInfo {
  path: string;
  count: number;
  recent: { key: string; updatedAt: number; age: number }[];
}

/** The most recent sessions listed in health. */
const RECENT = 10;
/** Files statted at a time while scanning. */
const STAT_BATCH = 64;

/** Session file name back to its id (`sessionFileName` escapes as `%xx`). */
function sessionKey(file: string): string {
  return file.slice(0, -".jsonl".length).replace(/%([0-9a-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * A summary of the agent's session store (`<state>/sessions/*.jsonl`) for health readers:
 * how many sessions and the most recent ones. Scanned off the hot path (async, one scan at
 * a time, only after something changed), so reading it never touches the disk.
 */
export class SessionsSummary {
  private count = 0;
  private recent: { key: string; updatedAt: number }[] = [];
  private dirty = true;
  private scanning: Promise<void> | null = null;

  constructor(
    readonly path: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The last scan's result, ages as of now. */
  get(): SessionsInfo {
    const now = this.now();
    return {
      path: this.path,
      count: this.count,
      recent: this.recent.map((r) => ({ key: r.key, updatedAt: r.updatedAt, age: Math.max(0, now - r.updatedAt) })),
    };
  }

  /** A session was written: the next `refresh` rescans. */
  touch(): void {
    this.dirty = true;
  }

  /** Rescan if anything changed since the last scan; resolves when that scan is done. */
  refresh(): Promise<void> {
    if (this.scanning) return this.scanning;
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    this.scanning = this.scan().finally(() => {
      this.scanning = null;
    });
    return this.scanning;
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.path)).filter((n) => n.endsWith(".jsonl"));
    } catch {
      // No sessions yet (the directory is made on the first run).
      this.count = 0;
      this.recent = [];
      return;
    }
    const found: { key: string; updatedAt: number }[] = [];
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      const batch = await Promise.all(
        names.slice(i, i + STAT_BATCH).map((n) =>
          stat(join(this.path, n)).then(
            (st) => ({ key: sessionKey(n), updatedAt: Math.round(st.mtimeMs) }),
            () => null,
          ),
        ),
      );
      for (const s of batch) if (s) found.push(s);
      // Keep only the newest few between batches: memory stays bounded whatever the count.
      if (found.length > RECENT * 4) found.sort((a, b) => b.updatedAt - a.updatedAt).splice(RECENT);
    }
    this.count = names.length;
    this.recent = found.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, RECENT);
  }
}
