import type { EventFrame, Health, HelloOk, MethodResult, PresenceEntry, PresenceEvent, PresenceListEvent } from "../protocol/index.ts";

/** A gap in the event stream: `seq` skipped, or a resume the gateway refused (`reason`). */
export type Gap = { expected: number; received: number; reason?: string };

const key = (e: PresenceEntry) => e.instanceId ?? e.host;

/**
 * The client's copy of the gateway's state: presence and health from the snapshot,
 * kept current by events (either presence shape), re-read on a gap; plus the stream
 * position (`seq`, `cursor`) that gaps and resumes are judged by.
 */
export class Mirror {
  /** Presence kept current from the snapshot, `presence` events and refreshes. */
  readonly presence = new Map<string, PresenceEntry>();
  /** Health kept current from the snapshot, `health` events and refreshes. */
  health: Health | null = null;
  /** Cursor of the last journaled event seen: where a reconnect resumes from. */
  lastCursor: string | null = null;
  private presenceVersion = 0;
  private lastSeq = 0;

  /** A fresh handshake: start from its snapshot. */
  fromHello(hello: HelloOk): void {
    this.lastSeq = 0;
    this.health = hello.snapshot.health;
    this.setList(hello.snapshot.presence);
    this.presenceVersion = hello.snapshot.stateVersion.presence;
    // Resumed: the replay that follows moves the cursor on. Otherwise start from the snapshot.
    if (!hello.resume?.ok && hello.snapshot.cursor) this.lastCursor = hello.snapshot.cursor;
  }

  /** Apply one event; returns the gap its `seq` reveals, if any. */
  onEvent(ev: EventFrame): Gap | null {
    if (ev.cursor) this.lastCursor = ev.cursor;
    let gap: Gap | null = null;
    if (ev.seq !== undefined) {
      const expected = this.lastSeq + 1;
      this.lastSeq = ev.seq;
      if (ev.seq !== expected) gap = { expected, received: ev.seq };
    }
    if (ev.event === "presence") this.applyPresence(ev);
    else if (ev.event === "health") this.health = ev.payload as Health;
    return gap;
  }

  /** A re-read of `health` and `system-presence` (either shape). */
  applyRefresh(health: Health, list: MethodResult<"system-presence">): void {
    this.health = health;
    // The bare list (a client without `presence-deltas`) carries no version: events after it are newer.
    this.setList(Array.isArray(list) ? list : list.presence);
    if (!Array.isArray(list)) this.presenceVersion = list.stateVersion.presence;
  }

  private setList(list: PresenceEntry[]): void {
    this.presence.clear();
    for (const e of list) this.presence.set(key(e), e);
  }

  private applyPresence(ev: EventFrame): void {
    const version = ev.stateVersion?.presence;
    // Changes older than the snapshot we hold are already in it.
    if (version !== undefined && version <= this.presenceVersion) return;
    const payload = ev.payload as PresenceEvent | PresenceListEvent;
    if ("presence" in payload) this.setList(payload.presence);
    else {
      for (const e of payload.upserted) this.presence.set(key(e), e);
      for (const e of payload.removed) this.presence.delete(key(e));
    }
    if (version !== undefined) this.presenceVersion = version;
  }
}
