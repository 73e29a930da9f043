import type { PresenceEntry, PresenceEvent } from "../protocol/index.ts";

interface Slot {
  entry: PresenceEntry;
  /** The entry as JSON, made once per change (every hello-ok carries the whole list). */
  json?: string;
  /** Live connections backing this entry; entries without one expire after the TTL. */
  conns: number;
  expiresAt: number;
}

export interface PresenceOptions {
  ttlMs: number;
  maxEntries: number;
  /** Changes within this window go out as one event. */
  coalesceMs: number;
  /** Receives each coalesced delta and the version it brings the list to. */
  publish: (delta: PresenceEvent, version: number) => void;
  now?: () => number;
}

/**
 * The presence list: the gateway's own entry, one per connected client instance and
 * notes posted through `system-event`. Keyed by `instanceId`. Changes are coalesced so
 * that N clients joining at once cost each client one frame, not N.
 */
export class Presence {
  private readonly slots = new Map<string, Slot>();
  private pendingUpserts = new Map<string, PresenceEntry>();
  private pendingRemovals = new Map<string, PresenceEntry>();
  /** The pending flush: a timer inside a storm, an immediate after a quiet window. */
  private flushTimer: { timeout: ReturnType<typeof setTimeout> } | { immediate: ReturnType<typeof setImmediate> } | null = null;
  private _version = 0;
  private lastChange = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(private readonly opts: PresenceOptions) {
    this.now = opts.now ?? Date.now;
  }

  get version(): number {
    return this._version;
  }

  /** `JSON.stringify(list())`, from each entry's JSON kept since it last changed: a join storm's hello-oks stop re-serializing every entry. */
  listJson(): string {
    let out = "[";
    let first = true;
    for (const slot of this.slots.values()) {
      out += (first ? "" : ",") + (slot.json ??= JSON.stringify(slot.entry));
      first = false;
    }
    return `${out}]`;
  }

  list(): PresenceEntry[] {
    return Array.from(this.slots.values(), (s) => s.entry);
  }

  get size(): number {
    return this.slots.size;
  }

  /** Add or refresh an entry. `connected` entries live until `release`; others until the TTL. */
  upsert(entry: PresenceEntry & { instanceId: string }, connected: boolean): void {
    const key = entry.instanceId;
    const slot = this.slots.get(key);
    if (slot) {
      slot.entry = { ...slot.entry, ...entry };
      slot.json = undefined;
      if (connected) slot.conns += 1;
      slot.expiresAt = this.now() + this.opts.ttlMs;
    } else {
      if (this.slots.size >= this.opts.maxEntries && !this.evictOne()) return;
      this.slots.set(key, { entry, conns: connected ? 1 : 0, expiresAt: this.now() + this.opts.ttlMs });
    }
    this.changed(key, this.slots.get(key)!.entry, null);
  }

  /** Merge fields into an existing entry (a note), or create one that expires after the TTL. */
  note(entry: PresenceEntry & { instanceId: string }): PresenceEntry {
    const slot = this.slots.get(entry.instanceId);
    if (slot) {
      slot.entry = { ...slot.entry, ...entry };
      slot.json = undefined;
      slot.expiresAt = this.now() + this.opts.ttlMs;
      this.changed(entry.instanceId, slot.entry, null);
      return slot.entry;
    }
    this.upsert(entry, false);
    return entry;
  }

  /** A connection backing `instanceId` went away; the entry goes when the last one does. */
  release(instanceId: string, reason: string): void {
    const slot = this.slots.get(instanceId);
    if (!slot) return;
    slot.conns = Math.max(0, slot.conns - 1);
    if (slot.conns > 0) return;
    this.slots.delete(instanceId);
    this.changed(instanceId, null, { ...slot.entry, reason, ts: this.now() });
  }

  /** Drop entries with no live connection whose TTL has passed. */
  sweep(): void {
    const now = this.now();
    for (const [key, slot] of this.slots) {
      if (slot.conns === 0 && slot.expiresAt <= now) {
        this.slots.delete(key);
        this.changed(key, null, { ...slot.entry, reason: "expired", ts: now });
      }
    }
  }

  /** Send pending changes now (shutdown, tests). */
  flush(): void {
    this.clearTimer();
    if (this.pendingUpserts.size === 0 && this.pendingRemovals.size === 0) return;
    const delta: PresenceEvent = {
      upserted: [...this.pendingUpserts.values()],
      removed: [...this.pendingRemovals.values()],
    };
    this.pendingUpserts = new Map();
    this.pendingRemovals = new Map();
    this.opts.publish(delta, this._version);
  }

  stop(): void {
    this.clearTimer();
  }

  private clearTimer(): void {
    const t = this.flushTimer;
    if (t) {
      if ("timeout" in t) clearTimeout(t.timeout);
      else clearImmediate(t.immediate);
    }
    this.flushTimer = null;
  }

  private evictOne(): boolean {
    for (const [key, slot] of this.slots) {
      if (slot.conns === 0) {
        this.slots.delete(key);
        this.changed(key, null, { ...slot.entry, reason: "evicted", ts: this.now() });
        return true;
      }
    }
    return false;
  }

  private changed(key: string, upserted: PresenceEntry | null, removed: PresenceEntry | null): void {
    this._version += 1;
    // Within one window only the last state of a key matters.
    if (upserted) {
      this.pendingRemovals.delete(key);
      this.pendingUpserts.set(key, upserted);
    } else if (removed) {
      this.pendingUpserts.delete(key);
      this.pendingRemovals.set(key, removed);
    }
    const now = this.now();
    // Quiet means no *change* for a whole window (not "no flush"): during a storm every
    // change lands inside the window, so the storm is one frame per window.
    const quiet = now - this.lastChange >= this.opts.coalesceMs;
    this.lastChange = now;
    if (this.opts.coalesceMs <= 0) return this.flush();
    if (this.flushTimer) return;
    // Leading edge: a change after a quiet window goes out on the next turn.
    this.flushTimer = quiet
      ? { immediate: setImmediate(() => this.flush()) }
      : { timeout: setTimeout(() => this.flush(), this.opts.coalesceMs) };
  }
}
