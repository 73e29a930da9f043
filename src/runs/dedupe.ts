/**
 * Idempotency: the first call with a key does the work; repeats within the TTL share
 * its promise and result. Failed work is forgotten so a retry can succeed. Bounded in
 * size (oldest first out) and time.
 */
export class Dedupe<T> {
  private readonly entries = new Map<string, { value: Promise<T>; expiresAt: number }>();

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Run `work` once per key; returns the shared promise and whether this call started it. */
  run(key: string, work: () => Promise<T>): { value: Promise<T>; first: boolean } {
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > now) return { value: hit.value, first: false };
    if (hit) this.entries.delete(key);
    this.evict(now);
    const value = work();
    this.entries.set(key, { value, expiresAt: now + this.ttlMs });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return { value, first: true };
  }

  get size(): number {
    return this.entries.size;
  }

  private evict(now: number): void {
    // Map keeps insertion order, so the oldest entries come first.
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now && this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
