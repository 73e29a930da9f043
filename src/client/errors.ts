import type { ErrorShape, HelloError } from "../protocol/index.ts";

export type ClientErrorKind = "connect" | "handshake" | "closed" | "timeout" | "remote";

/** Every failure the client reports, sorted by where it failed. */
export class GatewayClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    readonly detail: { code?: string; closeCode?: number; error?: ErrorShape; helloError?: HelloError } = {},
  ) {
    super(message);
    this.name = "GatewayClientError";
  }

  /** Worth retrying with the same idempotency key: the request may not have run. */
  get retryable(): boolean {
    return this.kind === "closed" || this.kind === "timeout" || this.kind === "connect" || this.detail.error?.retryable === true;
  }

  /** A refused handshake that will not fix itself by retrying (anything but `unavailable`). */
  get refused(): boolean {
    return this.kind === "handshake" && this.detail.helloError !== undefined && this.detail.helloError.reason !== "unavailable";
  }
}
