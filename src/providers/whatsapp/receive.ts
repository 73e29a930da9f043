import { proto, type WAMessage } from "@whiskeysockets/baileys";
import { coalesce } from "../coalesce.ts";
import type { ProviderDeps } from "../types.ts";
import { defaultDownload, readInbound } from "./chat.ts";
import type { WaChatState } from "./chat-state.ts";
import type { WaMe } from "./inbound.ts";
import { WaNames } from "./names.ts";
import type { WhatsAppOptions } from "./options.ts";
import { RecentInbound } from "./outbox.ts";
import type { SentStore } from "./sent-store.ts";
import type { WaSocketLike } from "./socket.ts";

/**
 * Messages arriving on the socket: our own sends shown back are dropped, the rest read and
 * handed on, each kept a while for quoting and its read receipt; when the last one came
 * reaches health (coalesced).
 */
export class WaReceiver {
  /** Received recently: a reply quotes them, a read receipt names them. */
  readonly recentInbound = new RecentInbound();
  private readonly names = new WaNames();
  private last: number | undefined;
  /** `lastInboundAt` reaches health on arrival, at most once a second. */
  private readonly status: ReturnType<typeof coalesce>;

  constructor(
    private readonly opts: WhatsAppOptions,
    private readonly deps: ProviderDeps,
    private readonly sent: SentStore,
    private readonly chats: WaChatState,
  ) {
    this.status = coalesce(() => deps.onStatus(), 1_000);
  }

  get lastInboundAt(): number | undefined {
    return this.last;
  }

  /** One upserted message of `sock`; `current` says whether that socket is still the provider's. */
  async take(sock: WaSocketLike, m: WAMessage, type: string, me: WaMe, current: () => boolean): Promise<void> {
    // Our own send shown back to us is never input (in the self chat it would read as the
    // owner writing): Baileys' echo of this socket's send is still PENDING (it comes before
    // `send` has the id); a later echo (another device, after a restart) has a known id.
    if (m.key.fromMe && (m.status === proto.WebMessageInfo.Status.PENDING || (m.key.id && this.sent.has(m.key.id)))) return;
    try {
      const timeout = this.opts.mediaTimeoutMs !== undefined ? { timeoutMs: this.opts.mediaTimeoutMs } : {};
      const media = this.deps.media ? { sink: this.deps.media, download: this.opts.downloadMedia ?? defaultDownload, ...timeout } : undefined;
      this.chats.noteExpiration(m);
      const msg = await readInbound(sock, m, type, me, media, this.deps.log, this.names);
      if (!msg || !current()) return;
      // A group's name for the agent's header, from the metadata cache Baileys uses too (fetched once per group).
      if (msg.chatType === "group" && !msg.chatTitle) {
        const subject = (await this.chats.groupMetadata(sock.groupMetadata?.bind(sock))(msg.chat))?.subject;
        if (subject) msg.chatTitle = subject;
      }
      this.recentInbound.add(m);
      this.last = Date.now();
      this.status();
      // Handed on now (its place in the chat's line is taken at once); its acceptance is not waited for, so the next message of the chat follows at once.
      void Promise.resolve(this.deps.onInbound(msg)).catch((err: Error) =>
        this.deps.log.warn("whatsapp: could not take an incoming message", { id: m.key.id, error: err.message }),
      );
    } catch (err) {
      this.deps.log.warn("whatsapp: could not read an incoming message", { id: m.key.id, error: (err as Error).message });
    }
  }

  /** A blue tick for a message that started a run (the message must still be in the recent-inbound cache). */
  markRead(sock: WaSocketLike | null, messageId: string): void {
    const m = this.recentInbound.get(messageId);
    if (!sock?.readMessages || !m) return;
    sock.readMessages([m.key]).catch((err: Error) => this.deps.log.debug("whatsapp: read receipt failed", { id: messageId, error: err.message }));
  }

  stop(): void {
    this.status.cancel();
  }
}
