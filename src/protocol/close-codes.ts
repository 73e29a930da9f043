/**
 * WebSocket close codes the gateway uses. 1xxx are RFC 6455 codes used with their
 * standard meaning; 4xxx are this protocol's own and always follow a `hello-error`.
 */
export const CloseCode = {
  /** A normal close: a client that is done (the gateway itself closes with the codes below). */
  NORMAL_CLOSURE: 1000,
  /** The gateway is shutting down (after the `shutdown` event). Reconnect. */
  GOING_AWAY: 1001,
  /** A frame that is not part of the protocol: first frame not `hello`, a second `hello`, a frame without a usable `type`/`id`. */
  PROTOCOL_ERROR: 1002,
  /** A binary frame the runtime delivered in a form that cannot be read (binary UTF-8 JSON is fine). */
  UNSUPPORTED_DATA: 1003,
  /** A frame (text, or binary) that is not valid UTF-8 JSON. */
  INVALID_JSON: 1007,
  /** The client stopped reading and its send buffer passed `maxBufferedBytes`. */
  SLOW_CONSUMER: 1008,
  /** A frame larger than `maxPayload` (or than the pre-handshake cap). */
  MESSAGE_TOO_BIG: 1009,
  /** An unexpected fault in the gateway. */
  INTERNAL_ERROR: 1011,
  /** The gateway is shutting down and takes no new connections. */
  TRY_AGAIN_LATER: 1013,
  /** Never sent: what a side reports locally when the socket died without a close frame. */
  ABNORMAL_CLOSURE: 1006,
  /** No valid `hello` arrived within `handshakeTimeoutMs` (or no frame at all within `firstFrameTimeoutMs`). */
  HANDSHAKE_TIMEOUT: 4000,
  /** `hello-error` reason `unauthorized`: token missing or wrong. */
  UNAUTHORIZED: 4001,
  /** `hello-error` reason `protocol-mismatch`: no common protocol version. */
  PROTOCOL_MISMATCH: 4002,
  /** `hello-error` reason `invalid-hello`: the hello failed validation. */
  INVALID_HELLO: 4003,
  /** `hello-error` reason `rate-limited`: too many failed auth attempts from this address. */
  RATE_LIMITED: 4004,
  /** Too many sockets still in their handshake (or this silent socket's slot went to another address's client): try again later. */
  TOO_MANY_HANDSHAKES: 4005,
  /** WebChat's browser socket only: the tab's sign-in ended (signed out, revoked, expired). Sign in again. */
  SESSION_ENDED: 4401,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
