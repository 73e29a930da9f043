import { GatewayError } from "../../protocol/index.ts";
import type { Handler } from "./types.ts";

/** `ledger.list`: newest first, filtered by status, direction and time. */
export const ledgerList: Handler<"ledger.list"> = (params, { gw }) => ({ records: gw.ledger.list(params ?? {}) });

/** `ledger.get`: one record and the others on its path (the run, the reply). */
export const ledgerGet: Handler<"ledger.get"> = (params, { gw }) => {
  const record = gw.ledger.get(params.id);
  if (!record) throw new GatewayError("INVALID_REQUEST", `no ledger record "${params.id}"`, { details: { field: "params.id" } });
  return { record, related: gw.ledger.related(record) };
};
