import { dirname } from "node:path";
import { privateDir, readJson, writeAtomic } from "../../core/atomic.ts";

/** Ids remembered: far more than a self chat sees between two restarts. */
const MAX_IDS = 2_000;

/**
 * The ids of messages this gateway sent, on disk (0600) so they outlive a restart.
 * WhatsApp shows our own sends back to us (Baileys' own upsert, another device's sync,
 * the offline queue after a reconnect); in the self chat they would look like the owner
 * writing, and the gateway would answer itself. Bounded: the oldest ids go first.
 */
export class SentIds {
  private readonly ids: Set<string>;
  private writing: Promise<void> | null = null;
  private dirty = false;

  constructor(private readonly path: string) {
    const saved = readJson<unknown>(path, []);
    this.ids = new Set(Array.isArray(saved) ? saved.filter((x): x is string => typeof x === "string").slice(-MAX_IDS) : []);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Remember a sent id; the file is rewritten soon after (writes never overlap, bursts fold into one). */
  add(id: string): void {
    if (!id || this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > MAX_IDS) this.ids.delete(this.ids.values().next().value!);
    this.dirty = true;
    void this.flush();
  }

  /** Resolves once the ids known now are on disk. */
  flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    this.writing = (async () => {
      privateDir(dirname(this.path));
      await writeAtomic(this.path, JSON.stringify([...this.ids]));
    })()
      .catch(() => {
        this.dirty = true;
      })
      .finally(() => {
        this.writing = null;
        if (this.dirty) void this.flush();
      });
    return this.writing;
  }
}
