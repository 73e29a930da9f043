import { GatewayError, type LedgerRecord, type SendResult } from "../protocol/index.ts";
import type { SendLedger } from "./types.ts";

/** The ledger key of part `i` (1-based): the first part carries the send's own key. */
export const partKey = (key: string, i: number): string => (i === 1 ? key : `${key}:part${i}`);

export const explain = (err: unknown): string => (err instanceof GatewayError ? `${err.code}: ${err.message}` : (err as Error).message);

/** A send the gateway died during: its outcome is unknown, so it is never sent again. */
export const interrupted = (r: LedgerRecord | undefined): boolean => r?.status === "interrupted";

export function interruptedError(key: string, ledgerId: string, why = "was interrupted by a gateway restart"): GatewayError {
  return new GatewayError(
    "UNAVAILABLE",
    `the send with idempotencyKey "${key}" ${why} and may have gone out; ` +
      "it is not sent again — check the chat, and use a new key to send anyway",
    { retryable: false, details: { idempotencyKey: key, ledgerId, outcome: "unknown" } },
  );
}

/** The answer to a send, from its ledger records (so a repeat after a restart gets the same one). */
export function resultOf(recs: LedgerRecord[]): SendResult {
  const first = recs[0]!;
  const result: SendResult = { provider: first.provider, to: first.chat, messageId: first.providerMessageId ?? "", ts: recs.at(-1)!.updatedAt };
  if (recs.length > 1) result.messageIds = recs.map((r) => r.providerMessageId ?? "");
  return result;
}

/**
 * What the ledger already says of a send made before under `key` (`prior`, its first
 * part): every part sent → its result; a part interrupted → the interrupted error
 * (thrown); otherwise `undefined` with the part records, for the caller to decide.
 */
export function settledByLedger(ledger: SendLedger, key: string, prior: LedgerRecord): { result?: SendResult; recs: (LedgerRecord | undefined)[] } {
  const recs = Array.from({ length: prior.parts ?? 1 }, (_, i) => ledger.byIdempotencyKey(partKey(key, i + 1)));
  if (recs.every((r) => r?.status === "sent")) return { result: resultOf(recs as LedgerRecord[]), recs };
  const lost = recs.find(interrupted);
  if (lost) throw interruptedError(key, lost.id);
  return { recs };
}
