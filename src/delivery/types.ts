import type { Clock } from "../core/clock.ts";
import type { Logger } from "../log.ts";
import type { UrlPolicy } from "../media/index.ts";
import type { LedgerRecord, LedgerStatus, ProviderName } from "../protocol/index.ts";
import type { Providers } from "../providers/index.ts";
import type { PacingOptions } from "./pacing.ts";

/** The part of the ledger delivery writes to (the gateway's Ledger; delivery never imports the gateway). */
export interface SendLedger {
  byIdempotencyKey(key: string): LedgerRecord | undefined;
  create(fields: Omit<LedgerRecord, "id" | "ts" | "updatedAt">, text?: string): Promise<LedgerRecord>;
  update(id: string, patch: Partial<Omit<LedgerRecord, "id" | "ts">>): Promise<LedgerRecord>;
  list(filter: { limit?: number; since?: number; status?: LedgerStatus; direction?: "inbound" | "outbound" }): LedgerRecord[];
}

/** A value, or a getter for the value in force (the live config). */
export type Live<T> = T | (() => T);
export const live = <T>(v: Live<T>): T => (typeof v === "function" ? (v as () => T)() : v);

export interface DeliveryOptions {
  ledger: SendLedger;
  providers: Providers;
  /** `<state>/outbox`: queued sends that must survive a restart. */
  outboxDir: string;
  /** Per provider; a getter is read at every send, so a config reload applies (issue 16 §7 of the brief). */
  pacing: Live<Record<ProviderName, PacingOptions>>;
  /** Longest message per provider; longer ones are split. A getter is read at every send. */
  maxChars: Live<Record<ProviderName, number>>;
  /** Longest media caption, where it is shorter than a message: the rest of the text follows as messages. */
  captionChars?: Partial<Record<ProviderName, number>>;
  log: Logger;
  /** A queue grew or shrank (health shows its length). */
  onQueueChange?: () => void;
  /** `delivery.retryWindowMs`: a send failing transiently (or whose provider is reconnecting) is retried this long before it fails (default 10 min). */
  retryWindowMs?: Live<number>;
  /** `delivery.maxQueuedAgeMs`: a send still queued this long after it was made (the gateway was down) is dropped at start-up (default 24 h). */
  maxQueuedAgeMs?: Live<number>;
  /** Wall clock for records and ages across restarts; monotonic for waits while running. */
  clock?: Clock;
  /** `<provider>.format` in force: an agent's reply is rendered from Markdown (default) or sent as written. */
  format?: Live<Record<ProviderName, "markdown" | "plain">>;
  /** `agent.mediaDirs` in force: the folders a reply's `MEDIA:` paths may lie under. */
  mediaDirs?: Live<readonly string[]>;
  /** `media.allowPrivateUrls` / `media.allowUrlHosts` in force: a reply's `MEDIA:` URLs are checked by them before they are queued. */
  mediaUrls?: Live<UrlPolicy>;
}
