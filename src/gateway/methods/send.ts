import { GatewayError, type SendParams, type SendResult } from "../../protocol/index.ts";
import type { GatewayContext } from "../context.ts";
import type { Handler } from "./types.ts";

const describe = (err: unknown) => (err instanceof GatewayError ? `${err.code}: ${err.message}` : (err as Error).message);

/**
 * Send once per idempotency key, across restarts, with the ledger as the record: a
 * finished send is answered from it; one interrupted by a crash is not sent again (its
 * outcome is unknown); one the provider refused may be retried.
 */
export function sendIdempotent(gw: GatewayContext, params: SendParams): Promise<SendResult> {
  const key = params.idempotencyKey;
  return gw.sends.run(key, async () => {
    const prior = gw.ledger.byIdempotencyKey(key);
    if (prior?.status === "sent") {
      return { provider: prior.provider, to: prior.chat, messageId: prior.providerMessageId ?? "", ts: prior.updatedAt };
    }
    if (prior?.status === "failed" && prior.reason?.startsWith("interrupted")) {
      throw new GatewayError(
        "UNAVAILABLE",
        `the send with idempotencyKey "${key}" was interrupted by a gateway restart and may have gone out; ` +
          "it is not sent again — check the chat, and use a new key to send anyway",
        { retryable: false, details: { idempotencyKey: key, ledgerId: prior.id } },
      );
    }
    let provider;
    try {
      provider = gw.providers.route(params);
    } catch (err) {
      const fields = { status: "failed" as const, reason: describe(err) };
      if (prior) await gw.ledger.update(prior.id, fields);
      else await gw.ledger.create({ direction: "outbound", provider: params.provider ?? "whatsapp", chat: params.to, idempotencyKey: key, ...fields }, params.message);
      throw err;
    }
    const rec = prior
      ? await gw.ledger.update(prior.id, { status: "sending", provider: provider.name })
      : await gw.ledger.create({ direction: "outbound", provider: provider.name, chat: params.to, status: "sending", idempotencyKey: key }, params.message);
    try {
      const result = await provider.send(params);
      await gw.ledger.update(rec.id, { status: "sent", providerMessageId: result.messageId, chat: result.to });
      return result;
    } catch (err) {
      // The provider refused: nothing went out, so a retry may try again.
      await gw.ledger.update(rec.id, { status: "failed", reason: describe(err) });
      throw err;
    }
  }).value;
}

/** `send`: one message through a provider; a repeated `idempotencyKey` never sends twice. */
export const send: Handler<"send"> = (params, { gw }) => sendIdempotent(gw, params);
