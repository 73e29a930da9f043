import type { ProviderName, SendParams, SendResult } from "../protocol/index.ts";

/** What a provider reports about itself; cheap to read (no probe). */
export interface ProviderStatus {
  /** Credentials exist / a token is configured. */
  linked: boolean;
  /** The connection is up right now. */
  connected: boolean;
  authAgeMs?: number;
}

/** One messaging connection owned by the gateway (WhatsApp, Telegram). */
export interface Provider {
  readonly name: ProviderName;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): ProviderStatus;
  send(params: SendParams, signal?: AbortSignal): Promise<SendResult>;
}
