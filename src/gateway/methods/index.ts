import * as v from "valibot";
import { describeIssue, GatewayError, METHODS, type MethodName } from "../../protocol/index.ts";
import { agent, agentWait } from "./agent.ts";
import { configReload } from "./config-reload.ts";
import { health } from "./health.ts";
import { ledgerGet, ledgerList } from "./ledger.ts";
import { pairingApprove, pairingApproved, pairingList, pairingReject, pairingRevoke } from "./pairing.ts";
import { send } from "./send.ts";
import { status } from "./status.ts";
import { systemEvent } from "./system-event.ts";
import { systemPresence } from "./system-presence.ts";
import type { Call, Handler } from "./types.ts";
import { webLoginStart, webLoginWait, webLogout } from "./web-login.ts";
import { webchatLink } from "./webchat-link.ts";

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
  "webchat.link": webchatLink,
  "config.reload": configReload,
  "pairing.list": pairingList,
  "pairing.approve": pairingApprove,
  "pairing.reject": pairingReject,
  "pairing.approved": pairingApproved,
  "pairing.revoke": pairingRevoke,
};

function isMethod(name: string): name is MethodName {
  return Object.hasOwn(HANDLERS, name);
}

/** The params fields each method knows; anything else is ignored (see the params policy in protocol/methods.ts). */
const KNOWN_FIELDS = new Map<string, ReadonlySet<string>>(
  Object.entries(METHODS).map(([name, m]) => {
    const schema = (m.params.type === "optional" ? (m.params as unknown as { wrapped: unknown }).wrapped : m.params) as {
      entries?: Record<string, unknown>;
    };
    return [name, new Set(Object.keys(schema.entries ?? {}))];
  }),
);
/** Method+field pairs already logged: each once, and a bounded number in all. */
const loggedUnknown = new Set<string>();
const MAX_LOGGED_UNKNOWN = 1_000;

/** Debug-log params fields a method does not know, once per method and field. */
function noteUnknownFields(method: MethodName, params: unknown, call: Call): void {
  if (typeof params !== "object" || params === null || Array.isArray(params)) return;
  const known = KNOWN_FIELDS.get(method)!;
  for (const field of Object.keys(params)) {
    if (known.has(field)) continue;
    const key = `${method}\u0000${field.slice(0, 64)}`;
    if (loggedUnknown.has(key) || loggedUnknown.size >= MAX_LOGGED_UNKNOWN) continue;
    loggedUnknown.add(key);
    call.gw.log.debug("ignored an unknown params field", { method, field: field.slice(0, 64), client: call.caller.client.name });
  }
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
    const { field, expected, received, text } = describeIssue(parsed.issues[0], "params", true);
    throw new GatewayError("INVALID_REQUEST", `${method}: ${text}`, { details: { field, expected, received } });
  }
  // Only worth the key scan when someone reads debug records.
  if (call.gw.log.debugEnabled) noteUnknownFields(method, rawParams, call);
  const handler = HANDLERS[method] as Handler<MethodName>;
  return handler(parsed.output as never, call);
}
