import type { InboundMessage } from "../providers/types.ts";
import type { GatewayContext } from "./context.ts";
import type { PendingInbound } from "./inbound-pending.ts";
import { startAgentRun } from "./methods/agent.ts";

const digits = (s: string) => s.replace(/[^0-9]/g, "");

/**
 * `allowFrom`: empty means nobody, `"*"` everyone, else sender ids or names. `@user`
 * names compare case-insensitively (Telegram usernames are); `+1555…` phone numbers
 * compare by digits, only against a sender's phone number (never a LID or a user id).
 */
export function senderAllowed(allowFrom: readonly string[], msg: InboundMessage): boolean {
  if (allowFrom.includes("*")) return true;
  const names = msg.senderNames.map((n) => (n.startsWith("@") ? n.toLowerCase() : n));
  const phones = msg.senderNames.filter((n) => n.startsWith("+")).map(digits);
  return allowFrom.some((a) => {
    if (a === msg.sender) return true;
    if (a.startsWith("@")) return names.includes(a.toLowerCase());
    if (a.startsWith("+")) return digits(a) !== "" && phones.includes(digits(a));
    return names.includes(a);
  });
}

/** Why a message gets no run, or null when it does. */
function refusal(gw: GatewayContext, msg: InboundMessage): string | null {
  if (msg.refused) return msg.refused;
  // Group policies (who, mentions) come later; until then groups are off.
  if (msg.group) return "group not allowed";
  const allowFrom = msg.provider === "telegram" ? gw.config.telegram.allowFrom : gw.config.whatsapp.allowFrom;
  if (!senderAllowed(allowFrom, msg)) return `sender not in ${msg.provider}.allowFrom`;
  if (msg.offline && Date.now() - msg.ts > gw.config.inbound.retryWindowMs) {
    return "too old: delivered late from the provider's offline queue, past inbound.retryWindowMs";
  }
  return null;
}

const runKey = (msg: InboundMessage) => `inbound:${msg.provider}:${msg.messageId}`;
const isShutdown = (reason: string | undefined) => reason === "agent run failed: shutdown";

/**
 * A message from a chat. Every one gets a ledger record that says what became of it:
 * a message seen before (providers replay after reconnects) is `duplicate`; one not to
 * be answered (status, broadcast, channel, group, sender not allowed, too old) is
 * `skipped` with the reason; an allowed one starts an agent run in its own session and
 * ends `replied` (the reply went back to the same chat) or `failed` with the reason.
 * Resolves once the message is on disk, before its run ends.
 */
export async function handleInbound(gw: GatewayContext, msg: InboundMessage): Promise<void> {
  const log = gw.log.child("inbound");
  const base = { direction: "inbound" as const, provider: msg.provider, chat: msg.chat, providerMessageId: msg.messageId };
  const prior = gw.ledger.inbound(msg.provider, msg.messageId);
  if (prior) {
    log.info("ignored a duplicate message", { provider: msg.provider, messageId: msg.messageId, of: prior.id });
    await gw.ledger.create({ ...base, status: "duplicate", reason: `duplicate of ${prior.id}` });
    return;
  }
  const reason = refusal(gw, msg);
  if (reason) {
    log.info(`ignored a message: ${reason}`, { provider: msg.provider, sender: msg.sender, chat: msg.chat });
    await gw.ledger.create({ ...base, status: "skipped", reason }, msg.text);
    return;
  }
  const rec = await gw.ledger.create({ ...base, status: "received", idempotencyKey: runKey(msg) }, msg.text);
  const pending: PendingInbound = { recordId: rec.id, message: msg, at: Date.now() };
  await gw.inboundPending.add(pending).catch((err) => log.warn("could not keep the message for a restart", { error: (err as Error).message }));
  // The run goes on in the background; the caller only waited for the message to be safe on disk.
  void runInbound(gw, pending, runKey(msg));
}

/** Run the agent for a taken-in message and ledger the outcome; the pending file goes once the run really ended. */
async function runInbound(gw: GatewayContext, p: PendingInbound, idempotencyKey: string): Promise<void> {
  const log = gw.log.child("inbound");
  const msg = p.message;
  let reason: string | undefined;
  try {
    const run = await startAgentRun(
      gw,
      { message: msg.text, to: msg.chat, sessionId: `${msg.provider}:${msg.chat}`, deliver: true, idempotencyKey },
      msg.provider,
    );
    await gw.ledger.update(p.recordId, { runId: run.runId });
    const final = await run.done;
    if (final.status === "ok" && final.delivery?.ok) await gw.ledger.update(p.recordId, { status: "replied" });
    else {
      reason = final.status !== "ok" ? `agent run failed: ${final.summary}` : `reply not delivered: ${final.delivery?.error?.code}: ${final.delivery?.error?.message}`;
      await gw.ledger.update(p.recordId, { status: "failed", reason });
    }
    log.info("handled a message", { provider: msg.provider, chat: msg.chat, runId: final.runId, status: final.status });
  } catch (err) {
    reason = (err as Error).message;
    await gw.ledger.update(p.recordId, { status: "failed", reason }).catch(() => {});
    log.warn("inbound run failed", { provider: msg.provider, chat: msg.chat, error: reason });
  }
  // A run cut short by shutdown stays pending: the next start answers it.
  if (!(isShutdown(reason) || (reason !== undefined && gw.shuttingDown()))) gw.inboundPending.remove(p.recordId);
}

/** Wait (bounded) until the message's provider can send, so the re-run's reply is not lost to a reconnect. */
async function providerReady(gw: GatewayContext, msg: InboundMessage, untilMs: number): Promise<boolean> {
  for (;;) {
    const s = gw.providers.status(msg.provider);
    if (s.linked && (s.sendable ?? s.connected)) return true;
    if (gw.shuttingDown() || Date.now() > untilMs) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * At start-up: messages a restart left unanswered (`received`, or failed by shutdown)
 * are run again, once, when younger than `inbound.retryWindowMs`; older ones are
 * ledgered `skipped: too old after restart`. A reply that did go out before the
 * restart (the ledger has its send) is not sent again.
 */
export async function resumeInbound(gw: GatewayContext): Promise<void> {
  const log = gw.log.child("inbound");
  const window = gw.config.inbound.retryWindowMs;
  const pending = gw.inboundPending.list();
  const kept = new Set(pending.map((p) => p.recordId));
  // Records with no kept text (a crash between the two writes) cannot be answered again.
  for (const r of gw.ledger.list({ direction: "inbound", status: "received", limit: 1_000 })) {
    if (!kept.has(r.id)) await gw.ledger.update(r.id, { status: "skipped", reason: "lost in a restart: the message text was not kept" });
  }
  await Promise.all(
    pending.map(async (p) => {
      const rec = gw.ledger.get(p.recordId);
      const open = rec && (rec.status === "received" || (rec.status === "failed" && isShutdown(rec.reason)));
      if (!rec || !open) return gw.inboundPending.remove(p.recordId);
      const key = runKey(p.message);
      if (gw.ledger.byIdempotencyKey(`${key}:deliver`)?.status === "sent" || gw.ledger.byIdempotencyKey(`${key}:after-restart:deliver`)?.status === "sent") {
        await gw.ledger.update(rec.id, { status: "replied" });
        return gw.inboundPending.remove(p.recordId);
      }
      const why = p.retried ? "too old after restart: already run again after an earlier restart" : Date.now() - p.at > window ? "too old after restart" : null;
      if (why || !(await providerReady(gw, p.message, p.at + window))) {
        await gw.ledger.update(rec.id, { status: "skipped", reason: why ?? "too old after restart: the provider did not reconnect in time" });
        return gw.inboundPending.remove(p.recordId);
      }
      log.info("answering a message left unanswered by a restart", { provider: p.message.provider, chat: p.message.chat, record: rec.id });
      const again = { ...p, retried: true };
      await gw.inboundPending.add(again);
      await gw.ledger.update(rec.id, { status: "received" });
      await runInbound(gw, again, `${key}:after-restart`);
    }),
  );
}
