/** Outbound delivery: idempotent sends, long-message splitting, pacing, durable queue. Below gateway/: never imports it. */
export { Delivery } from "./service.ts";
export { ErrorReplies, failurePhrase, type RunFailure } from "./error-reply.ts";
export type { DeliveryOptions, SendLedger } from "./types.ts";
export { PacingQueue, type PacingOptions } from "./pacing.ts";
export { splitMessage, splitWithCaption, TELEGRAM_MAX_CAPTION_CHARS, TELEGRAM_MAX_CHARS } from "./split.ts";
