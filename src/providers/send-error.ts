import { GatewayError, type ErrorCode } from "../protocol/index.ts";

/**
 * What a failed send means for a retry, decided where the failure is understood (the
 * provider; grammY's habit of telling "the remote refused" from "the transport broke"):
 * - `transient`: nothing went out and it may pass (a socket that closed, a 5xx, a 429);
 *   sending again is safe and worth it;
 * - `unknown`: the request left but its answer was lost; sending again could deliver twice;
 * - `final`: the provider refused this message for good (blocked, no such chat, too long).
 */
export type SendOutcome = "transient" | "unknown" | "final";

/** A provider's send failure, classified. A plain Error from a provider counts as `final`. */
export class SendError extends GatewayError {
  constructor(
    readonly outcome: SendOutcome,
    message: string,
    opts: { code?: ErrorCode; retryAfterMs?: number; details?: unknown } = {},
  ) {
    super(opts.code ?? (outcome === "final" ? "INVALID_REQUEST" : "UNAVAILABLE"), message, {
      retryable: outcome === "transient",
      ...(opts.retryAfterMs !== undefined ? { retryAfterMs: opts.retryAfterMs } : {}),
      ...(opts.details !== undefined ? { details: opts.details } : {}),
    });
    this.name = "SendError";
  }
}

/** How a send failure counts: a provider's SendError says so; a retryable GatewayError (reconnecting) is transient; anything else final. */
export function sendOutcome(err: unknown): SendOutcome {
  if (err instanceof SendError) return err.outcome;
  return err instanceof GatewayError && err.retryable === true ? "transient" : "final";
}
