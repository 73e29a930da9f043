import type { Handler } from "./types.ts";

/** `send`: one message through a provider (split, paced, once per `idempotencyKey`: see src/delivery/). */
export const send: Handler<"send"> = (params, { gw }) => gw.delivery.send(params);
