import type { Handler } from "./types.ts";

/** `health`: the cached snapshot; never waits on a probe. */
export const health: Handler<"health"> = (_params, { gw }) => gw.health.snapshot();
