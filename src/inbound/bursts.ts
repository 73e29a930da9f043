/**
 * Albums and bursts are one turn (issue 21 §4). Items that share a burst key (a Telegram
 * album, WhatsApp photos/videos from one sender in one chat, or — with `inbound.debounceMs`
 * — consecutive texts of one sender) join one burst; once every item has its ledger
 * record and none has come (or finished downloading) for the window, the first item
 * becomes the turn with everyone's text and media, and the others are folded into it.
 */

/** How a member of a burst ends: the head carries the whole turn, the others were folded into it. */
export type BurstOutcome<T> = { head: true; items: T[]; recordIds: string[] } | { head: false; foldedInto: string };

/** A message's membership in a burst. */
export interface BurstMember<T> {
  /** The item is on disk as `recordId`: resolves with its outcome once the burst closes. */
  settle(recordId: string, item: T): Promise<BurstOutcome<T>>;
  /** The item will not take part after all (refused late, failed): the burst closes without it. */
  abandon(): void;
}

interface Slot<T> {
  recordId?: string;
  item?: T;
  state: "pending" | "settled" | "abandoned";
  resolve?: (o: BurstOutcome<T>) => void;
}

interface Burst<T> {
  slots: Slot<T>[];
  timer?: ReturnType<typeof setTimeout>;
  windowMs: number;
}

/** Telegram albums hold at most 10 items; a longer stream of photos starts a new turn. */
const MAX_ITEMS = 10;
/** Open bursts at once (chats × senders mid-album): past it a new item is its own turn. */
const MAX_OPEN = 1_000;

export class Bursts<T> {
  private readonly open = new Map<string, Burst<T>>();

  /** Join (or open) the burst of `key`; synchronous, so arrival order is join order. Null when there is no room: the item is its own turn. */
  join(key: string, windowMs: number): BurstMember<T> | null {
    let burst = this.open.get(key);
    if (!burst || burst.slots.length >= MAX_ITEMS) {
      if (this.open.size >= MAX_OPEN && !burst) return null;
      burst = { slots: [], windowMs };
      this.open.set(key, burst);
    }
    const b = burst;
    const slot: Slot<T> = { state: "pending" };
    b.slots.push(slot);
    this.arm(key, b);
    return {
      settle: (recordId, item) =>
        new Promise<BurstOutcome<T>>((resolve) => {
          Object.assign(slot, { recordId, item, state: "settled", resolve });
          this.arm(key, b);
        }),
      abandon: () => {
        if (slot.state !== "pending") return;
        slot.state = "abandoned";
        this.arm(key, b);
      },
    };
  }

  /** (Re)start the quiet window: any arrival or finished item pushes the close back. */
  private arm(key: string, b: Burst<T>): void {
    clearTimeout(b.timer);
    b.timer = setTimeout(() => this.close(key, b), b.windowMs);
  }

  private close(key: string, b: Burst<T>): void {
    // Still downloading or being recorded: the close waits for it (its settle re-arms the window).
    if (b.slots.some((s) => s.state === "pending")) return;
    if (this.open.get(key) === b) this.open.delete(key);
    const live = b.slots.filter((s) => s.state === "settled");
    const head = live[0];
    if (!head) return;
    head.resolve!({ head: true, items: live.map((s) => s.item!), recordIds: live.map((s) => s.recordId!) });
    for (const s of live.slice(1)) s.resolve!({ head: false, foldedInto: head.recordId! });
  }

  /** Bursts waiting to close. */
  get size(): number {
    return this.open.size;
  }
}
