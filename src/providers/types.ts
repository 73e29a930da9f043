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
  /** The message's file as words (`[photo]`, `[voice note 0:12]`): the agent's text when the message has none. */
  mediaLabel?: string;
  /** Media the message held that was not kept, and why (`media too large`). */
  mediaSkipped?: string;
  /**
   * The message's file, not fetched yet: fetches and saves it (`{media}`), or says why
   * not (`{mediaSkipped}`); never throws. Called only once the message is let in, so a
   * refused message's file is never downloaded.
   */
  fetchMedia?: () => Promise<{ media?: InboundMedia[]; mediaSkipped?: string; oversized?: OversizedFile }>;
  /** An edit of an earlier message: the provider's id of the original (this message's own id is the edit's). */
  editOf?: string;
  /** Written by the linked account in its own chat (WhatsApp "Message yourself"): the owner talking to the assistant. */
  self?: boolean;
  /** Delivered late, from the provider's offline queue (WhatsApp `append` after a reconnect). */
  offline?: boolean;
  /** The message this one replies to: its text (at most 500 characters) and who wrote it. */
  quote?: { text: string; author?: string };
  /** A group's name, when the provider knows it. */
  chatTitle?: string;
  /** The provider never answers this kind of chat (status, broadcast list, channel); the reason is ledgered. */
  refused?: string;
  /** Issue 21 (inbound): what the message is beyond text and files. See `MessageExtras`. */
  extras?: MessageExtras;
}

/**
 * What a message holds beyond text and files, as the provider read it (issue 21 §4–§8);
 * the inbound path (src/inbound/) decides what becomes of it.
 */
export interface MessageExtras {
  /** No text or file, but something a person would answer: the agent gets a placeholder. */
  placeholder?: Placeholder;
  /** Never a run, never a reply (reaction, edit of an answered message, join/leave, deleted message…): ledgered `skipped` with this kind. */
  ignored?: string;
  /** View-once media a linked device cannot open: the chat is told so. */
  viewOnce?: boolean;
  /** Items with the same id from one sender in one chat are one turn (Telegram `media_group_id`; WhatsApp photos/videos: `"media"`). */
  albumId?: string;
  /** The chat is this (older) group's successor (Telegram supergroup migration): policy and session use the old id. */
  migratedFrom?: string;
  /** Set by the inbound path for a late message answered: when it was written (the agent is told). */
  writtenAt?: number;
}

/** A file over `media.maxInboundBytes`, not downloaded: what it was (the agent is told, issue 21 §6). */
export interface OversizedFile {
  kind: string;
  name?: string;
  bytes?: number;
}

/** Content without text or file, described for the agent (src/inbound/placeholders.ts renders it). */
export type Placeholder =
  | { kind: "location"; lat: number; lon: number; name?: string; address?: string; live?: boolean }
  | { kind: "contact"; contacts: { name: string; phone?: string }[] }
  | { kind: "sticker"; emoji?: string }
  | { kind: "poll"; question: string; options: string[] };

/** A send as delivery hands it to a provider: the client's params, plus the message a reply answers (groups). */
export type ProviderSendParams = SendParams & {
  /** The provider's id of the message this one replies to (Telegram reply_parameters, WhatsApp quoted). */
  replyTo?: string;
  /** A file on disk to send (an agent's `MEDIA:` path, vetted against `agent.mediaDirs` by delivery). */
  mediaPath?: string;
  /** The message is Telegram HTML; `plain` is what to send instead, once, if Telegram cannot parse it. */
  parseMode?: "HTML";
  plain?: string;
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
  /** Mark a received message read (WhatsApp blue ticks); best effort, never throws. */
  markRead?(chat: string, messageId: string): void;
}
