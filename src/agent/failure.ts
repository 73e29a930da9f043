import type { ErrorShape } from "../protocol/index.ts";

/**
 * A backend failure with its typed cause: the run ends `status:"error"` and the final
 * carries `error` (`UNAVAILABLE` for an outage, 5xx or network; `retryable` with
 * `retryAfterMs` when the service said when to come back). The run's own deadline is not
 * one of these: it stays the `AGENT_TIMEOUT` error of the request.
 */
export class AgentFailure extends Error {
  constructor(readonly shape: ErrorShape) {
    super(shape.message);
    this.name = "AgentFailure";
  }
}

/** The typed error of any failure a backend threw: its own shape, else `UNAVAILABLE` (not retryable). */
export function failureShape(err: unknown): ErrorShape {
  if (err instanceof AgentFailure) return err.shape;
  return { code: "UNAVAILABLE", message: err instanceof Error ? err.message : String(err), retryable: false };
}
