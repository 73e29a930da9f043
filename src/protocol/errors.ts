import * as v from "valibot";

/** Wire error codes of `res.error.code`, as the runbook lists them. */
export const ERROR_CODES = ["NOT_LINKED", "AGENT_TIMEOUT", "INVALID_REQUEST", "UNAVAILABLE"] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** `{ code, message, details?, retryable?, retryAfterMs? }` */
export const ErrorShapeSchema = v.object({
  code: v.picklist(ERROR_CODES),
  message: v.string(),
  details: v.optional(v.unknown()),
  retryable: v.optional(v.boolean()),
  retryAfterMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
export type ErrorShape = v.InferOutput<typeof ErrorShapeSchema>;

/** The one error type thrown inside the gateway; turned into `res.error` at exactly one place. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryable: boolean | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: unknown; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
    this.details = opts.details;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
  }

  /** The wire shape, with absent optional fields left out. */
  toShape(): ErrorShape {
    const shape: ErrorShape = { code: this.code, message: this.message };
    if (this.details !== undefined) shape.details = this.details;
    if (this.retryable !== undefined) shape.retryable = this.retryable;
    if (this.retryAfterMs !== undefined) shape.retryAfterMs = this.retryAfterMs;
    return shape;
  }
}
