import type { Handler } from "./types.ts";

/** `send`: one message through a provider; a repeated `idempotencyKey` never sends twice. */
export const send: Handler<"send"> = (params, { gw }) =>
  gw.sends.run(params.idempotencyKey, () => gw.providers.send(params)).value;
