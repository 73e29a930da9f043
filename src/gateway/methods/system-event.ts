import type { PresenceEntry } from "../../protocol/index.ts";
import type { Handler } from "./types.ts";

/**
 * `system-event`: a structured note merged into the caller's presence entry (or the
 * entry of the `instanceId` it speaks for) and pushed to everyone as a `presence` event.
 */
export const systemEvent: Handler<"system-event"> = (params, { gw, caller }) => {
  const entry: PresenceEntry & { instanceId: string } = {
    host: params.host ?? caller.client.host ?? caller.remote,
    ip: params.ip ?? caller.remote,
    version: params.version ?? caller.client.version,
    mode: params.mode ?? caller.client.mode,
    ts: Date.now(),
    instanceId: params.instanceId ?? caller.instanceId,
    text: params.text,
    reason: params.reason ?? "system-event",
  };
  if (params.tags) entry.tags = params.tags;
  if (params.lastInputSeconds !== undefined) entry.lastInputSeconds = params.lastInputSeconds;
  if (params.platform !== undefined) entry.platform = params.platform;
  const merged = gw.presence.note(entry);
  return { entry: merged, stateVersion: gw.stateVersion() };
};
