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
 * A message from a chat. Every one gets a ledger record that says what became of it:
 * a message seen before (providers replay after reconnects) is `duplicate`; a sender
 * not allowed is `skipped`; an allowed one starts an agent run in its own session and
 * ends `replied` (the reply went back to the same chat) or `failed` with the reason.
 */
export function handleInbound(gw: GatewayContext, msg: InboundMessage): void {
  const log = gw.log.child("inbound");
  const base = { direction: "inbound" as const, provider: msg.provider, chat: msg.chat, providerMessageId: msg.messageId };
  const prior = gw.ledger.inbound(msg.provider, msg.messageId);
  if (prior) {
    log.info("ignored a duplicate message", { provider: msg.provider, messageId: msg.messageId, of: prior.id });
    void gw.ledger.create({ ...base, status: "duplicate", reason: `duplicate of ${prior.id}` });
    return;
  }
  const allowFrom = msg.provider === "telegram" ? gw.config.telegram.allowFrom : gw.config.whatsapp.allowFrom;
  if (!senderAllowed(allowFrom, msg)) {
    const reason = `sender not in ${msg.provider}.allowFrom`;
    log.info(`ignored a message: ${reason}`, { provider: msg.provider, sender: msg.sender, chat: msg.chat });
    void gw.ledger.create({ ...base, status: "skipped", reason }, msg.text);
    return;
  }
  const idempotencyKey = `inbound:${msg.provider}:${msg.messageId}`;
  void (async () => {
    const rec = await gw.ledger.create({ ...base, status: "received", idempotencyKey }, msg.text);
    try {
      const run = await startAgentRun(
        gw,
        { message: msg.text, to: msg.chat, sessionId: `${msg.provider}:${msg.chat}`, deliver: true, idempotencyKey },
        msg.provider,
      );
      await gw.ledger.update(rec.id, { runId: run.runId });
      const final = await run.done;
      if (final.status === "ok" && final.delivery?.ok) await gw.ledger.update(rec.id, { status: "replied" });
      else {
        const reason = final.status !== "ok" ? `agent run failed: ${final.summary}` : `reply not delivered: ${final.delivery?.error?.code}: ${final.delivery?.error?.message}`;
        await gw.ledger.update(rec.id, { status: "failed", reason });
      }
      log.info("handled a message", { provider: msg.provider, chat: msg.chat, runId: final.runId, status: final.status });
    } catch (err) {
      await gw.ledger.update(rec.id, { status: "failed", reason: (err as Error).message }).catch(() => {});
      log.warn("inbound run failed", { provider: msg.provider, chat: msg.chat, error: (err as Error).message });
    }
  })();
}
