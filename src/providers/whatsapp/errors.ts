import { createHash } from "node:crypto";
import { SendError } from "../send-error.ts";

/**
 * Baileys failures of a send that may pass: the socket closed or was replaced mid-send
 * (428 Connection Closed, 440, 515), timed out or lost (408), WhatsApp's 500/503, and
 * `rate-overlimit` (429). Retrying them is safe: every part carries a stable message id
 * (`waMessageId`), so WhatsApp drops a repeat of one that did arrive.
 */
const TRANSIENT_STATUS = new Set([408, 428, 429, 440, 500, 503, 515]);
const TRANSIENT_TEXT = /connection closed|connection was lost|timed out|rate-overlimit|stream errored/i;

/** A failed Baileys send, classified: transient, or WhatsApp's final refusal; anything else (a bug, bad media) stays as thrown. */
export function classifyWaSend(err: unknown): unknown {
  if (err instanceof SendError || !(err instanceof Error)) return err;
  const status = (err as { output?: { statusCode?: number } }).output?.statusCode;
  const text = err.message;
  if ((status !== undefined && TRANSIENT_STATUS.has(status)) || TRANSIENT_TEXT.test(text)) {
    return new SendError("transient", `whatsapp send failed: ${text}${status ? ` (${status})` : ""}`, { details: { provider: "whatsapp", ...(status ? { code: status } : {}) } });
  }
  // WhatsApp answered and refused this message: trying again will not change its mind.
  if (status !== undefined) return new SendError("final", `whatsapp refused the send: ${text} (${status})`, { details: { provider: "whatsapp", code: status } });
  return err;
}

/**
 * The WhatsApp message id of a send part, derived from its idempotency key: the same
 * part sent twice (a retry after a socket that closed mid-send) carries the same id, and
 * WhatsApp keeps one. Shaped like Baileys' own ids (`3EB0` + 18 hex digits).
 */
export const waMessageId = (idempotencyKey: string): string =>
  `3EB0${createHash("sha256").update(`clawdis:${idempotencyKey}`).digest("hex").slice(0, 18).toUpperCase()}`;
