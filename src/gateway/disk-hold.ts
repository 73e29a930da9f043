import { inboundRunKey, runChatMessage } from "../inbound/index.ts";
import { handleInbound, inboundDeps } from "./inbound.ts";
import type { InboundMessage } from "../providers/types.ts";
import { mentionsDiskFull, type DiskFull } from "../store/disk-full.ts";
import type { GatewayContext } from "./context.ts";

/**
 * The disk filled (say so: log, one line on stderr, health) or has space again (run
 * what was held). The log file is on the same disk, so stderr carries the news too.
 */
export function diskChanged(gw: GatewayContext, full: DiskFull | null): void {
  if (full) {
    const what = `${full.message}: free space there; messages arriving meanwhile are held in memory and answered once writes succeed`;
    gw.log.error(what);
    process.stderr.write(`clawdis: ${what}\n`);
  } else {
    gw.log.info("the state dir has space again; writes succeed");
    // Records written while the disk was full go first, then the held messages run.
    void gw.ledger
      .saveUnsaved()
      .then(() => gw.inboundHold.release(gw))
      .catch((err: Error) => gw.log.error("could not answer the messages held while the disk was full", { error: err.message }));
  }
  gw.health.refresh();
}

/** Messages held while the disk is full; beyond this the oldest are given up (and said so). */
const MAX_HELD = 200;

interface Held {
  msg: InboundMessage;
  /** When it arrived: it runs only within `inbound.retryWindowMs` of this. */
  at: number;
  attempts: number;
}

/**
 * Chat messages that could not be recorded or answered because the state dir was full:
 * kept in memory (bounded, never on the full disk) and run once writes succeed again, if
 * still within `inbound.retryWindowMs`. One run per message: a message whose reply was
 * already handed to delivery is not run again.
 */
export class InboundHold {
  private readonly held = new Map<string, Held>();

  /** Hold `msg` unless its record says it was dealt with. */
  hold(gw: GatewayContext, msg: InboundMessage, at: number): void {
    const rec = gw.ledger.inbound(msg.provider, msg.messageId);
    // Its end was written (replied, skipped, a duplicate) or it failed for a reason of its own.
    if (rec && rec.status !== "received" && !(rec.status === "failed" && mentionsDiskFull(rec.reason))) return;
    const key = `${msg.provider}:${msg.messageId}`;
    const prior = this.held.get(key);
    this.held.delete(key);
    this.held.set(key, { msg, at: prior?.at ?? at, attempts: prior?.attempts ?? 0 });
    while (this.held.size > MAX_HELD) {
      const [oldest, h] = this.held.entries().next().value!;
      this.held.delete(oldest);
      gw.log.warn("the state dir is full: too many messages held; the oldest is given up", { provider: h.msg.provider, chat: h.msg.chat });
    }
  }

  /** Writes succeed again: run what was held (together; the runner's concurrency limit orders them), each once. */
  async release(gw: GatewayContext): Promise<void> {
    const all = [...this.held.values()];
    this.held.clear();
    if (all.length > 0) gw.log.info(`the state dir has space again: answering ${all.length} message(s) held meanwhile`);
    await Promise.all(all.map((h) => this.retry(gw, h)));
  }

  private async retry(gw: GatewayContext, h: Held): Promise<void> {
    const id = `${h.msg.provider}:${h.msg.messageId}`;
    const rec = gw.ledger.inbound(h.msg.provider, h.msg.messageId);
    if (Date.now() - h.at > gw.config.inbound.retryWindowMs) {
      const reason = "too old: held while the state dir was full, past inbound.retryWindowMs";
      if (rec) await gw.ledger.update(rec.id, { status: "skipped", reason }).catch(() => {});
      else gw.log.warn(`a message was not answered: ${reason}`, { provider: h.msg.provider, chat: h.msg.chat });
      return;
    }
    // Never recorded: taken in afresh, through the whole inbound policy (held again if the disk fills again).
    if (!rec) return handleInbound(gw, h.msg, h.at).catch(() => {});
    const key = inboundRunKey(h.msg);
    const keys = [key, ...Array.from({ length: h.attempts }, (_, i) => `${key}:after-disk-full-${i + 1}`)];
    const replies = keys.map((k) => gw.ledger.byIdempotencyKey(`${k}:deliver`)?.status);
    // Its reply already went to delivery under an earlier attempt: that send finishes it, not a second run.
    if (replies.includes("sent")) return void (await gw.ledger.update(rec.id, { status: "replied" }).catch(() => {}));
    if (replies.includes("queued") || replies.includes("sending")) return;
    this.held.set(id, { ...h, attempts: h.attempts + 1 });
    try {
      await gw.ledger.update(rec.id, { status: "received" });
      await runChatMessage(inboundDeps(gw), rec.id, h.msg, `${key}:after-disk-full-${h.attempts + 1}`);
    } catch {
      return; // the disk filled again: it stays held for the next release
    }
    const after = gw.ledger.get(rec.id)?.status;
    // Answered, or failed for its own reason: no longer held. Still open (the disk filled again): held.
    if (after === "replied" || (after !== "received" && gw.disk.full === null)) this.held.delete(id);
  }
}
