import type { InboundMessage } from "../providers/types.ts";
import type { GatewayContext } from "./context.ts";
import { startAgentRun } from "./methods/agent.ts";

/** `allowFrom`: empty means nobody, `"*"` everyone, else sender ids or names (`@user`, `+1555…`). */
export function senderAllowed(allowFrom: readonly string[], msg: InboundMessage): boolean {
  if (allowFrom.includes("*")) return true;
  const digits = (s: string) => s.replace(/[^0-9]/g, "");
  return allowFrom.some(
    (a) =>
      a === msg.sender ||
      msg.senderNames.includes(a) ||
      (a.startsWith("+") && digits(a) !== "" && digits(a) === digits(msg.sender.split("@")[0] ?? "")),
  );
}

/**
 * A message from a chat: allowed senders start an agent run in their own session and
 * get the reply in the same chat; others are logged and ignored; a message seen before
 * (providers replay after reconnects) is dropped by its provider id.
 */
export function handleInbound(gw: GatewayContext, msg: InboundMessage): void {
  const log = gw.log.child("inbound");
  const allowFrom = msg.provider === "telegram" ? gw.config.telegram.allowFrom : gw.config.whatsapp.allowFrom;
  if (!senderAllowed(allowFrom, msg)) {
    log.info(`ignored a message: sender not in ${msg.provider}.allowFrom`, { provider: msg.provider, sender: msg.sender, chat: msg.chat });
    return;
  }
  const key = `${msg.provider}:${msg.messageId}`;
  if (gw.idempotency.get("inbound", key)) {
    log.info("ignored a duplicate message", { provider: msg.provider, messageId: msg.messageId });
    return;
  }
  void gw.idempotency
    .put({ key, kind: "inbound", state: "done", ts: Date.now() })
    .then(() =>
      startAgentRun(
        gw,
        { message: msg.text, to: msg.chat, sessionId: `${msg.provider}:${msg.chat}`, deliver: true, idempotencyKey: `inbound:${key}` },
        msg.provider,
      ),
    )
    .then((run) => run.done)
    .then((final) => {
      log.info("replied to a message", { provider: msg.provider, chat: msg.chat, runId: final.runId, status: final.status, delivered: final.delivery?.ok ?? false });
    })
    .catch((err: unknown) => log.warn("inbound run failed", { provider: msg.provider, chat: msg.chat, error: (err as Error).message }));
}
