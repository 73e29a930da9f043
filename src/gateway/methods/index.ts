import * as v from "valibot";
import { GatewayError, METHODS, type MethodName } from "../../protocol/index.ts";
import { agent, agentWait } from "./agent.ts";
import { health } from "./health.ts";
import { ledgerGet, ledgerList } from "./ledger.ts";
import { pairingApprove, pairingList, pairingReject } from "./pairing.ts";
import { send } from "./send.ts";
import { status } from "./status.ts";
import { systemEvent } from "./system-event.ts";
import { systemPresence } from "./system-presence.ts";
import type { Call, Handler } from "./types.ts";
import { webLoginStart, webLoginWait, webLogout } from "./web-login.ts";

export type { Call } from "./types.ts";

const HANDLERS: { [M in MethodName]: Handler<M> } = {
  health,
  status,
  "system-presence": systemPresence,
  "system-event": systemEvent,
  send,
  agent,
  "agent.wait": agentWait,
  "web.login.start": webLoginStart,
  "web.login.wait": webLoginWait,
  "web.logout": webLogout,
  "ledger.list": ledgerList,
  "ledger.get": ledgerGet,
  "pairing.list": pairingList,
  "pairing.approve": pairingApprove,
  "pairing.reject": pairingReject,
};

function isMethod(name: string): name is MethodName {
  return Object.hasOwn(HANDLERS, name);
}

/**
 * Validate params against the method's schema, then run its handler. Throws GatewayError
 * synchronously; returns the handler's value, a Promise only for asynchronous methods.
 */
export function invoke(method: string, rawParams: unknown, call: Call): unknown {
  if (!isMethod(method)) {
    throw new GatewayError("INVALID_REQUEST", `unknown method "${method}"`, {
      details: { field: "method", expected: Object.keys(HANDLERS) },
    });
  }
  const parsed = v.safeParse(METHODS[method].params, rawParams);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue ? `params${v.getDotPath(issue) ? `.${v.getDotPath(issue)}` : ""}` : "params";
    const unknownKey = issue?.type === "strict_object" && issue.expected === "never";
    const what = unknownKey ? "unknown parameter" : `expected ${issue?.expected ?? "valid value"}, got ${issue?.received}`;
    throw new GatewayError("INVALID_REQUEST", `${method}: ${field}: ${what}`, {
      details: { field, expected: issue?.expected ?? null, received: issue?.received ?? null },
    });
  }
  const handler = HANDLERS[method] as Handler<MethodName>;
  return handler(parsed.output as never, call);
}
