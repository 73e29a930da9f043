import type { Logger } from "../log.ts";
import type { InboundMediaSink, UrlPolicy } from "../media/index.ts";
import type { InboundMedia, ProviderName, SendParams, SendResult } from "../protocol/index.ts";

/** What a provider reports about itself; cheap to read (no probe). */
export interface ProviderStatus {
  /** Credentials exist / a token is configured. */
  linked: boolean;
  /** The connection is up right now. */
  connected: boolean;
  /** Sends can go out now (default: `connected`). Telegram sends do not depend on its polling. */
  sendable?: boolean;
  authAgeMs?: number;
  /** Provider-specific health fields (merged into `health.web` / `health.telegram`). */
  detail?: Record<string, unknown>;
}

/** A message that arrived from a chat. */
export interface InboundMessage {
  provider: ProviderName;
  /** Where a reply goes (chat id / JID). */
  chat: string;
  /** Who sent it (user id, @username, phone number). */
  sender: string;
  senderNames: string[];
  /** The provider's own id: inbound de-duplication key. */
  messageId: string;
  text: string;
  ts: number;
  chatType: "private" | "group";
  /** Addressed to the bot: a mention of its account, or a reply to / quote of one of its messages. */
  addressed: boolean;
  /** The sender's display name (pairing list). */
  senderName?: string;
  /** Files saved from the message (`<state>/media/inbound/`). */
  media?: InboundMedia[];
  /** Media the message held that was not kept, and why (`media too large`). */
  mediaSkipped?: string;
  /**
   * The message's file, not fetched yet: fetches and saves it (`{media}`), or says why
   * not (`{mediaSkipped}`); never throws. Called only once the message is let in, so a
   * refused message's file is never downloaded.
   */
  fetchMedia?: () => Promise<{ media?: InboundMedia[]; mediaSkipped?: string }>;
  /** Delivered late, from the provider's offline queue (WhatsApp `append` after a reconnect). */
  offline?: boolean;
  /** The provider never answers this kind of chat (status, broadcast list, channel); the reason is ledgered. */
  refused?: string;
}

/** A send as delivery hands it to a provider: the client's params, plus the message a reply answers (groups). */
export type ProviderSendParams = SendParams & {
  /** The provider's id of the message this one replies to (Telegram reply_parameters, WhatsApp quoted). */
  replyTo?: string;
};

/** What the gateway hands a provider when it builds one. Providers never import the gateway. */
export interface ProviderDeps {
  stateDir: string;
  log: Logger;
  /** Resolves once the message is on disk (ledger, and kept for a restart): only then may a provider confirm it upstream. */
  onInbound: (message: InboundMessage) => void | Promise<void>;
  /** Status changed (connected, disconnected, linked…): the gateway refreshes health. */
  onStatus: () => void;
  /** Where files of inbound messages are kept (absent: media is ignored, the caption still goes on). */
  media?: InboundMediaSink;
  /** What a send's mediaUrl may reach, read per send (absent: public addresses only). */
  mediaUrls?: () => UrlPolicy;
}

/** One messaging connection owned by the gateway (WhatsApp, Telegram). */
export interface Provider {
  readonly name: ProviderName;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ProviderStatus;
  send(params: ProviderSendParams): Promise<SendResult>;
  /** Show "typing…" in a chat until the returned function is called (issue 16 §3). */
  typing?(chat: string): () => void;
}
