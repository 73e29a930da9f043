import type { EventName, StateVersion } from "../protocol/index.ts";
import type { Journal } from "./journal.ts";

/** Liveness and the goodbye are never replayed, so they carry no cursor. */
const UNJOURNALED = new Set<EventName>(["tick", "shutdown"]);

/** The part of a connection the broadcaster drives. */
export interface EventSink {
  /** Send an event frame; the sink appends its own `seq`. Returns false if not delivered. */
  sendEvent(prefix: string, opts: { seq: boolean; droppable: boolean }): boolean;
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

  constructor(private readonly journal?: Journal) {}

  add(sink: EventSink): void {
    this.sinks.add(sink);
  }

  remove(sink: EventSink): void {
    this.sinks.delete(sink);
  }

  get size(): number {
    return this.sinks.size;
  }

  /** Serialize once, then stamp each connection's own `seq`. */
  broadcast(event: EventName, payload: unknown, opts: BroadcastOptions = {}): void {
    let prefix = eventPrefix(event, payload, opts.stateVersion);
    if (this.journal && !UNJOURNALED.has(event)) prefix = this.journal.append(prefix);
    const sendOpts = { seq: opts.seq ?? true, droppable: opts.droppable ?? false };
    for (const sink of this.sinks) sink.sendEvent(prefix, sendOpts);
  }

  /** Send to one client only. */
  unicast(sink: EventSink, event: EventName, payload: unknown, opts: BroadcastOptions = {}): boolean {
    return sink.sendEvent(eventPrefix(event, payload, opts.stateVersion), {
      seq: opts.seq ?? true,
      droppable: opts.droppable ?? false,
    });
  }
}

/** The event frame up to (not including) its `seq` and closing brace. */
export function eventPrefix(event: EventName, payload: unknown, stateVersion?: StateVersion): string {
  let s = `{"type":"event","event":${JSON.stringify(event)},"payload":${JSON.stringify(payload ?? null)}`;
  if (stateVersion) s += `,"stateVersion":${JSON.stringify(stateVersion)}`;
  return s;
}
