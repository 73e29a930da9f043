import { handleChatMessage, inboundRunKey, runChatMessage, type InboundDeps } from "../inbound/index.ts";
import type { InboundMessage } from "../providers/types.ts";
import { commandDeps } from "./chat-commands.ts";
import type { GatewayContext } from "./context.ts";

/** What the inbound path (src/inbound) needs of the gateway; built per message, so a reload applies at once. */
export function inboundDeps(gw: GatewayContext): InboundDeps {
  return {
    ledger: gw.ledger,
    gate: gw.gate,
    send: (params) => gw.delivery.send(params),
    startRun: ({ replyTo, media, context, ...params }, via) =>
      gw.agentRuns.start(params, { via, ...(replyTo ? { replyTo } : {}), request: { ...(media ? { media } : {}), ...(context ? { context } : {}) } }),
    context: gw.turnContext,
    log: gw.log.child("inbound"),
    commands: commandDeps(gw),
    editQueued: (runId, text) => gw.agent.editQueued(runId, text),
    answerEdits: () => gw.config.inbound.answerEdits,
    markRead: (msg) => {
      if (msg.provider === "whatsapp" && gw.config.whatsapp.readReceipts) gw.providers.markRead(msg.provider, msg.chat, msg.messageId);
    },
    typing: (provider, chat) => (gw.config[provider].typing ? gw.providers.typing(provider, chat) : () => {}),
    flow: gw.inboundFlow,
    // Not while stopping: a run cut short by shutdown is answered after the restart.
    runFailed: (msg, failure) => void (gw.shuttingDown() || gw.errorReplies.notify(msg, failure)),
    storeText: () => gw.config.ledger.storeText,
    keep: {
      add: (recordId, msg) => gw.inboundPending.add({ recordId, message: msg as InboundMessage, at: Date.now() }),
      // A run cut short by shutdown (or failing while the gateway stops) stays pending: the next start answers it.
      done: (recordId, status) => {
        if (status === "replied" || (status === "failed" && !gw.shuttingDown())) gw.inboundPending.remove(recordId);
      },
    },
  };
}

/**
 * A message from a chat, through the inbound policy (src/inbound/handle.ts): every one
 * gets a ledger record that says what became of it. Resolves once the message is on
 * disk (ledger, and kept for a restart), before its run ends: only then may a provider
 * confirm it upstream.
 */
export function handleInbound(gw: GatewayContext, msg: InboundMessage, arrivedAt = Date.now()): Promise<void> {
  const failures = gw.disk.failures;
  // A full disk met on the way (its record, its run's session, its reply's record): held
  // in memory and run once writes succeed again (src/gateway/disk-hold.ts).
  const held = (err?: unknown) => {
    const rec = gw.ledger.inbound(msg.provider, msg.messageId);
    // A reply refused by a full disk is known by its reason (the outbox write failed, the ledger's did not).
    const byReason = rec?.status === "failed" && gw.disk.noteText(rec.reason);
    if (!gw.disk.note(err) && !byReason && gw.disk.failures === failures) return false;
    gw.inboundHold.hold(gw, msg, arrivedAt);
    return true;
  };
  return new Promise<void>((accepted, failed) => {
    handleChatMessage(inboundDeps(gw), msg, accepted).then(
      () => void held(),
      (err) => (held(err) ? accepted() : failed(err)),
    );
  });
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

/** A message whose reply is already with delivery: `replied` once it goes out, else `failed` with delivery's reason. */
async function settleByDelivery(gw: GatewayContext, recordId: string, keptId: string, deliverKey: string): Promise<void> {
  try {
    await gw.delivery.outcome(deliverKey);
    await gw.ledger.update(recordId, { status: "replied" });
  } catch (err) {
    // Stopping again before it went out: it stays queued, and kept for the next start.
    if (gw.shuttingDown()) return;
    await gw.ledger.update(recordId, { status: "failed", reason: `reply not delivered: ${(err as Error).message}` });
  }
  gw.inboundPending.remove(keptId);
}

/**
 * At start-up: messages a restart left unanswered (`received`, or `interrupted` by shutdown)
 * are run again, once, when younger than `inbound.retryWindowMs`; older ones are
 * ledgered `skipped: too old after restart`. A message whose reply was handed to
 * delivery before the restart (queued, sent, or of unknown outcome) is not run again:
 * the outbox finishes that send, effectively once.
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
      if (!rec || rec.status === "replied") return gw.inboundPending.remove(p.recordId);
      const key = inboundRunKey(p.message);
      // The run ended and its reply was handed to delivery (queued, sending, sent or of
      // unknown outcome): running again would send a second reply. The outbox finishes it.
      const deliverKey = [`${key}:deliver`, `${key}:after-restart:deliver`].find((k) => gw.ledger.byIdempotencyKey(k));
      if (deliverKey) return settleByDelivery(gw, rec.id, p.recordId, deliverKey);
      const open = rec.status === "received" || rec.status === "interrupted";
      if (!open) return gw.inboundPending.remove(p.recordId);
      const why = p.retried ? "too old after restart: already run again after an earlier restart" : Date.now() - p.at > window ? "too old after restart" : null;
      if (why || !(await providerReady(gw, p.message, p.at + window))) {
        await gw.ledger.update(rec.id, { status: "skipped", reason: why ?? "too old after restart: the provider did not reconnect in time" });
        return gw.inboundPending.remove(p.recordId);
      }
      log.info("answering a message left unanswered by a restart", { provider: p.message.provider, chat: p.message.chat, record: rec.id });
      await gw.inboundPending.add({ ...p, retried: true });
      await gw.ledger.update(rec.id, { status: "received" });
      await runChatMessage(inboundDeps(gw), rec.id, p.message, `${key}:after-restart`);
    }),
  );
}


