import type { Logger } from "../log.ts";
import type { ProviderName, SendParams, SendResult } from "../protocol/index.ts";

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
  /** A group chat: answered only where a group policy allows it (none yet: groups are off). */
  group?: boolean;
  /** Delivered late, from the provider's offline queue (WhatsApp `append` after a reconnect). */
  offline?: boolean;
  /** The provider never answers this kind of chat (status, broadcast list, channel); the reason is ledgered. */
  refused?: string;
}

/** What the gateway hands a provider when it builds one. Providers never import the gateway. */
export interface ProviderDeps {
  stateDir: string;
  log: Logger;
  /** Resolves once the message is on disk (ledger, and kept for a restart): only then may a provider confirm it upstream. */
  onInbound: (message: InboundMessage) => void | Promise<void>;
  /** Status changed (connected, disconnected, linked…): the gateway refreshes health. */
  onStatus: () => void;
}

/** One messaging connection owned by the gateway (WhatsApp, Telegram). */
export interface Provider {
  readonly name: ProviderName;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ProviderStatus;
  send(params: SendParams): Promise<SendResult>;
}
