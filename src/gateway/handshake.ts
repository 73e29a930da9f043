import * as v from "valibot";
import {
  CAPS,
  CloseCode,
  describeIssue,
  HelloSchema,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type Hello,
  type HelloError,
  type HelloErrorReason,
} from "../protocol/index.ts";
import { secretEquals } from "../core/secret.ts";

/** What a handshake decision needs besides the frame; no sockets, so it is unit-testable. */
export interface HandshakeEnv {
  /** The peer's address, for messages. */
  remote: string;
  /** The configured gateway token, if any. */
  token: string | undefined;
  shuttingDown: boolean;
  /** Failed-auth rate limit for this peer: ms to wait (0: go ahead), and recording a failure. */
  limiter: { retryAfter(): number; fail(): void };
}

/** Accept (with the negotiated protocol), or refuse: with a `hello-error` frame, or (not a hello at all) by closing. */
export type HandshakeResult =
  | { ok: true; hello: Hello; protocol: number; presenceDeltas: boolean }
  | { ok: false; code: CloseCode; reason: string; helloError?: HelloError };

function refuse(reason: HelloErrorReason, message: string, code: CloseCode, extra: Partial<HelloError> = {}): HandshakeResult {
  return { ok: false, code, reason: message, helloError: { type: "hello-error", reason, message, ...extra } };
}

/**
 * The first frame of a connection → accept or refuse. Order matters: shape, then
 * shutdown, then the token (rate limit first: past it nothing is compared, so a brute
 * force learns nothing more), then the protocol version.
 */
export function handshake(frame: unknown, env: HandshakeEnv): HandshakeResult {
  if (typeof frame !== "object" || frame === null || (frame as { type?: unknown }).type !== "hello") {
    return { ok: false, code: CloseCode.PROTOCOL_ERROR, reason: "first frame must be hello" };
  }
  const parsed = v.safeParse(HelloSchema, frame);
  if (!parsed.success) {
    return refuse("invalid-hello", `invalid hello: ${describeIssue(parsed.issues[0], "hello").text}`, CloseCode.INVALID_HELLO);
  }
  const hello = parsed.output;
  if (hello.minProtocol > hello.maxProtocol) {
    return refuse(
      "invalid-hello",
      `invalid hello: minProtocol ${hello.minProtocol} is above maxProtocol ${hello.maxProtocol}`,
      CloseCode.INVALID_HELLO,
    );
  }
  if (env.shuttingDown) {
    return refuse("unavailable", "gateway is shutting down; reconnect shortly", CloseCode.TRY_AGAIN_LATER, { retryAfterMs: 1_000 });
  }
  if (env.token !== undefined) {
    const wait = env.limiter.retryAfter();
    if (wait > 0) {
      return refuse("rate-limited", `too many failed auth attempts from ${env.remote}; retry in ${Math.ceil(wait / 1000)} s`, CloseCode.RATE_LIMITED, {
        retryAfterMs: wait,
      });
    }
    if (!secretEquals(hello.auth?.token, env.token)) {
      env.limiter.fail();
      const message = hello.auth?.token === undefined ? "token required: send hello.auth.token" : "token rejected";
      return refuse("unauthorized", message, CloseCode.UNAUTHORIZED);
    }
  }
  const protocol = Math.min(hello.maxProtocol, PROTOCOL_VERSION);
  if (protocol < Math.max(hello.minProtocol, MIN_PROTOCOL_VERSION)) {
    return refuse(
      "protocol-mismatch",
      `no common protocol version: client speaks ${hello.minProtocol}–${hello.maxProtocol}, gateway ${MIN_PROTOCOL_VERSION}–${PROTOCOL_VERSION}`,
      CloseCode.PROTOCOL_MISMATCH,
      { supported: { minProtocol: MIN_PROTOCOL_VERSION, maxProtocol: PROTOCOL_VERSION } },
    );
  }
  return { ok: true, hello, protocol, presenceDeltas: hello.caps.includes(CAPS.presenceDeltas) };
}
