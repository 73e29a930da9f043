/** Outbound delivery: idempotent sends, long-message splitting, pacing, durable queue. Below gateway/: never imports it. */
export { Delivery, partKey, type DeliveryOptions, type SendLedger } from "./service.ts";
export { PacingQueue, type PacingOptions } from "./pacing.ts";
export { splitMessage, splitWithCaption, TELEGRAM_MAX_CAPTION_CHARS, TELEGRAM_MAX_CHARS } from "./split.ts";
