import type { Handler } from "./types.ts";

/** `system-presence`: the current list and its version. */
export const systemPresence: Handler<"system-presence"> = (_params, { gw }) => ({
  presence: gw.presence.list(),
  stateVersion: gw.stateVersion(),
});
