import { GrammyError, HttpError } from "grammy";
import nodeFetch from "node-fetch";
import { SendError } from "../send-error.ts";

/**
 * grammY's fetch (node-fetch, which Bun serves natively), except that an error answer
 * whose body is not JSON — a proxy's HTML "502 Bad Gateway" page during an outage — reads
 * as the Bot API error it stands for (`{ok:false, error_code:502, description:"Bad
 * Gateway"}`) instead of a JSON parse error that hides the status.
 */
export const botApiFetch = (async (url: string, init?: RequestInit) => {
  const res = await nodeFetch(url, init);
  if (res.ok) return res;
  const status = res.status;
  const statusText = res.statusText || "HTTP error";
  const text = () => res.text().catch(() => "");
  return {
    json: async () => {
      const body = await text();
      try {
        return JSON.parse(body);
      } catch {
        return { ok: false, error_code: status, description: statusText };
      }
    },
  };
}) as unknown as typeof fetch;

/** Transport failures that mean the request never reached Telegram (nothing can have been sent). */
const NOT_CONNECTED = /ECONNREFUSED|ConnectionRefused|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|FailedToOpenSocket|Unable to connect/i;

function transportCause(err: HttpError): string {
  const cause = err.error as { message?: string; code?: string } | undefined;
  const message = cause?.message ?? "";
  return (cause?.code && !message.includes(cause.code) ? `${cause.code} ${message}` : message).trim() || err.message;
}

/** One line for health and logs: what Telegram answered, or how the transport failed. */
export function describeTelegramError(err: unknown): string {
  if (err instanceof GrammyError) return `Telegram answered ${err.error_code} ${err.description}`;
  if (err instanceof HttpError) return `network error: ${transportCause(err)}`;
  return (err as Error).message;
}

/**
 * A failed Bot API send, classified: 429 (its `retry_after`, whatever its length), 5xx and
 * a request that never connected are transient; a lost answer (timeout, reset after the
 * request went out) leaves the outcome unknown; any other answer (403 blocked, 400 chat
 * not found or message too long) is final.
 */
export function classifyTelegramSend(err: unknown): SendError | Error {
  const details = { provider: "telegram" };
  if (err instanceof GrammyError) {
    const code = err.error_code;
    const message = describeTelegramError(err);
    if (code === 429) {
      const wait = err.parameters.retry_after ?? 1;
      return new SendError("transient", `telegram is rate limiting sends (retry after ${wait} s)`, { retryAfterMs: wait * 1000, details: { ...details, code } });
    }
    if (code >= 500) return new SendError("transient", message, { details: { ...details, code } });
    const what = code === 403 ? "the user blocked the bot or the bot cannot write to this chat: " : "";
    return new SendError("final", `telegram refused the send: ${what}${code} ${err.description}`, { details: { ...details, code } });
  }
  if (err instanceof HttpError) {
    const cause = transportCause(err);
    if (NOT_CONNECTED.test(cause)) return new SendError("transient", `telegram unreachable: ${cause}`, { details });
    return new SendError("unknown", `telegram's answer was lost (${cause}): the message may have been sent`, { details });
  }
  return err as Error;
}
