import type { EventName, StateVersion } from "../protocol/index.ts";
import type { Journal } from "./journal.ts";
import { ListPump, type ListReader } from "./list-pump.ts";

/** Liveness and the goodbye are never replayed, so they carry no cursor. */
const UNJOURNALED = new Set<EventName>(["tick", "shutdown"]);

/** Bytes the runtime holds across all clients during one broadcast, for droppable events. */
export interface SendBudget {
  limit: number;
  used: number;
}

export interface SendOptions {
  seq: boolean;
  droppable: boolean;
  /** Droppable events stop going out once the clients' queues together pass this. */
  budget?: SendBudget;
}

/** The part of a connection the broadcaster drives. */
export interface EventSink extends ListReader {
  /** The client reads `presence` as deltas (`presence-deltas` cap), not as the full list. */
  readonly presenceDeltas: boolean;
  /** Send an event frame; the sink appends its own `seq`. Returns false if not delivered. */
  sendEvent(prefix: string, opts: SendOptions): boolean;
}

export interface BroadcastOptions {
  stateVersion?: StateVersion;
  /** A slow client may miss it (ticks, presence): it gets a `seq` gap and refreshes. */
  droppable?: boolean;
  /** `tick` carries no seq: it is liveness, not state, and missing one is no gap. */
  seq?: boolean;
}

/** The one path every event takes to every connected client. */
export class Broadcaster {
  private readonly sinks = new Set<EventSink>();
  /** Sinks that read two-shape events in their full shape (no `presence-deltas`). */
  private fullReaders = 0;
  /** Full lists wait here per reader and leave paced, newest only (see ListPump). */
  private readonly lists = new ListPump();

  constructor(
    private readonly journal?: Journal,
    /** Total queued bytes past which droppable events are not queued (see SendBudget). */
    private readonly droppableBudget = 64 * 1024 * 1024,
    /** Counts frames sent and missed per broadcast (metrics); called once per broadcast, not per client. */
    private readonly onBroadcast?: (event: EventName, sent: number, missed: number, droppable: boolean) => void,
  ) {}

  add(sink: EventSink): void {
    if (this.sinks.has(sink)) return;
    this.sinks.add(sink);
    if (!sink.presenceDeltas) this.fullReaders += 1;
  }

  remove(sink: EventSink): void {
    if (this.sinks.delete(sink) && !sink.presenceDeltas) this.fullReaders -= 1;
    this.lists.remove(sink);
  }

  /** Readers holding a full list not yet sent. */
  get listsWaiting(): number {
    return this.lists.size;
  }

  stop(): void {
    this.lists.stop();
  }

  get size(): number {
    return this.sinks.size;
  }

  /**
   * Serialize once, then stamp each connection's own `seq`. An event with two shapes
   * (`presence`: `payload` the delta, `full()` the whole list) is serialized once per
   * shape, the full one only while some client reads it; each client gets its own shape,
   * both with the same cursor. The journal keeps `full` to make that shape on a resume.
   * The full shape is state, so it is conflated: it waits per reader and a newer list
   * replaces it until the reader's socket can take it (ListPump).
   */
  broadcast(event: EventName, payload: unknown, opts: BroadcastOptions = {}, full?: () => unknown): void {
    let prefix = eventPrefix(event, payload, opts.stateVersion);
    const serializeFull = full && (() => eventPrefix(event, full(), opts.stateVersion));
    let cursor = "";
    if (this.journal && !UNJOURNALED.has(event)) {
      cursor = this.journal.append(prefix, serializeFull);
      prefix += cursor;
    }
    const droppable = opts.droppable ?? false;
    // A mass disconnect makes every client's queue grow at once (each leave is news to all
    // the others): bound the total, not just each queue. Those past it see a seq gap.
    const sendOpts: SendOptions = { seq: opts.seq ?? true, droppable, ...(droppable ? { budget: { limit: this.droppableBudget, used: 0 } } : {}) };
    let sent = 0;
    // Nobody reads the full shape: do not build it.
    if (!serializeFull || this.fullReaders === 0) {
      for (const sink of this.sinks) if (sink.sendEvent(prefix, sendOpts)) sent++;
    } else {
      const fullPrefix = serializeFull() + cursor;
      for (const sink of this.sinks) {
        if (!sink.presenceDeltas) {
          this.lists.offer(sink, fullPrefix);
          sent++;
        } else if (sink.sendEvent(prefix, sendOpts)) sent++;
      }
    }
    this.onBroadcast?.(event, sent, this.sinks.size - sent, droppable);
  }
}

/** The event frame up to (not including) its `seq` and closing brace. */
export function eventPrefix(event: EventName, payload: unknown, stateVersion?: StateVersion): string {
  let s = `{"type":"event","event":${JSON.stringify(event)},"payload":${JSON.stringify(payload ?? null)}`;
  if (stateVersion) s += `,"stateVersion":${JSON.stringify(stateVersion)}`;
  return s;
}
