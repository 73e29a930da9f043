import { EVENT_NAMES, METHOD_NAMES } from "../protocol/index.ts";
import type { Hello, HelloOk, PresenceEntry } from "../protocol/index.ts";
import type { GatewayContext } from "./context.ts";

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

/** `hello-ok`: the server, what it offers, the snapshot a client starts from, and the limits it must keep. */
export function helloOkFrame(gw: GatewayContext, connId: string, protocol: number): HelloOk {
  const { maxPayload, maxBufferedBytes, tickIntervalMs } = gw.config.gateway;
  return {
    type: "hello-ok",
    protocol,
    server: { version: gw.build.version, commit: gw.build.commit, host: gw.host, connId },
    features: { methods: [...METHOD_NAMES], events: [...EVENT_NAMES] },
    snapshot: {
      presence: gw.presence.list(),
      health: gw.health.snapshot(),
      stateVersion: gw.stateVersion(),
      // A backward clock step must not make it negative (the schema says ≥ 0).
      uptimeMs: Math.max(0, Date.now() - gw.startedAt),
      cursor: gw.journal.cursor,
    },
    policy: { maxPayload, maxBufferedBytes, tickIntervalMs },
  };
}
