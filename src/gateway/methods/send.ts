import { GatewayError, type SendParams, type SendResult } from "../../protocol/index.ts";
import type { GatewayContext } from "../context.ts";
import type { Handler } from "./types.ts";

/**
 * Send once per idempotency key, across restarts: a finished send is answered from the
 * store; one interrupted by a crash is not sent again (its outcome is unknown).
 */
export function sendIdempotent(gw: GatewayContext, params: SendParams): Promise<SendResult> {
  const key = params.idempotencyKey;
  return gw.sends.run(key, async () => {
    const prior = gw.idempotency.get("send", key);
    if (prior?.state === "done") return prior.result as SendResult;
    if (prior?.state === "pending") {
      throw new GatewayError(
        "UNAVAILABLE",
        `the send with idempotencyKey "${key}" was interrupted by a gateway restart and may have gone out; ` +
          "it is not sent again — check the chat, and use a new key to send anyway",
        { retryable: false, details: { idempotencyKey: key } },
      );
    }
    const provider = gw.providers.route(params);
    await gw.idempotency.put({ key, kind: "send", state: "pending", ts: Date.now() });
    try {
      const result = await provider.send(params);
      await gw.idempotency.put({ key, kind: "send", state: "done", result, ts: Date.now() });
      return result;
    } catch (err) {
      // The provider refused before sending: a retry may try again.
      await gw.idempotency.put({ key, kind: "send", state: "failed", ts: Date.now() });
      throw err;
    }
  }).value;
}

/** `send`: one message through a provider; a repeated `idempotencyKey` never sends twice. */
export const send: Handler<"send"> = (params, { gw }) => sendIdempotent(gw, params);
