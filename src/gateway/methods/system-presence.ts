import type { Handler } from "./types.ts";

/**
 * `system-presence`: the runbook's bare list; clients with the `presence-deltas` cap get
 * `{presence, stateVersion}` (the version their deltas apply on).
 */
export const systemPresence: Handler<"system-presence"> = (_params, { gw, caller }) =>
  caller.presenceDeltas ? { presence: gw.presence.list(), stateVersion: gw.stateVersion() } : gw.presence.list();
