import { EVENT_NAMES, METHOD_NAMES } from "../protocol/index.ts";
import { intern } from "../core/intern.ts";
import type { Hello, HelloOk, PresenceEntry } from "../protocol/index.ts";
import type { GatewayContext } from "./context.ts";

/**
 * The client fields a connection keeps for its life: the known ones only (a hello may carry
 * any extra fields, up to the pre-auth frame cap; none of them is kept), the short ones shared
 * between connections.
 */
export function keptClient(c: Hello["client"]): Hello["client"] {
  const kept: Hello["client"] = { name: intern(c.name), version: intern(c.version), platform: intern(c.platform), mode: intern(c.mode) };
  if (c.instanceId !== undefined) kept.instanceId = c.instanceId;
  if (c.host !== undefined) kept.host = intern(c.host);
  return kept;
}

/** A client's presence entry as its hello makes it (its host, else the socket's address). */
export function connectEntry(client: Hello["client"], remote: string, instanceId: string): PresenceEntry & { instanceId: string } {
  return {
    host: client.host ?? remote,
    ip: remote,
    version: client.version,
    mode: client.mode,
    platform: client.platform,
    instanceId,
    ts: Date.now(),
    reason: "connect",
  };
}

/** What every hello-ok offers: one frozen object, not two array copies per hello. */
const FEATURES = Object.freeze({ methods: Object.freeze([...METHOD_NAMES]), events: Object.freeze([...EVENT_NAMES]) }) as unknown as HelloOk["features"];

/** Stands in for the presence list until `helloOkJson` splices the list's kept JSON in. */
const PRESENCE_MARK = "\u0000presence-list\u0000";

/**
 * `hello-ok`: the server, what it offers, the snapshot a client starts from, and the limits
 * it must keep. Its `snapshot.presence` is left empty here: `helloOkJson` writes the list.
 */
export function helloOkFrame(gw: GatewayContext, connId: string, protocol: number): HelloOk {
  const { maxPayload, maxBufferedBytes, tickIntervalMs } = gw.config.gateway;
  return {
    type: "hello-ok",
    protocol,
    server: { version: gw.build.version, commit: gw.build.commit, host: gw.host, connId },
    features: FEATURES,
    snapshot: {
      presence: [],
      health: gw.health.snapshot(),
      stateVersion: gw.stateVersion(),
      // A backward clock step must not make it negative (the schema says ≥ 0).
      uptimeMs: Math.max(0, Date.now() - gw.startedAt),
      cursor: gw.journal.cursor,
    },
    policy: { maxPayload, maxBufferedBytes, tickIntervalMs },
  };
}

/**
 * The frame as JSON with the whole presence list in `snapshot.presence`, from the entries'
 * JSON the presence keeps (`Presence.listJson`): in a join storm every hello-ok carries the
 * list, and serializing each entry again for each one was most of a join's cost.
 */
export function helloOkJson(frame: HelloOk, presenceJson: string): string {
  const marked = JSON.stringify({ ...frame, snapshot: { ...frame.snapshot, presence: PRESENCE_MARK } });
  return marked.replace(JSON.stringify(PRESENCE_MARK), () => presenceJson);
}
