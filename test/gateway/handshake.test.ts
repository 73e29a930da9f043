/** The handshake decided without a socket: hello shape, shutdown, token, rate limit, version. */
import { describe, expect, test } from "bun:test";
import { handshake, type HandshakeEnv } from "../../src/gateway/handshake.ts";
import { CloseCode } from "../../src/protocol/index.ts";
import { helloFrame } from "../helpers/client.ts";

function env(over: Partial<HandshakeEnv> = {}): HandshakeEnv & { failures: number } {
  const e = {
    remote: "10.0.0.7",
    token: undefined,
    shuttingDown: false,
    failures: 0,
    limiter: { retryAfter: () => 0, fail: () => void (e.failures += 1) },
    ...over,
  };
  return e;
}

describe("Handshake: hello → accept or hello-error", () => {
  test("a good hello is accepted with the negotiated protocol; caps decide the presence shape", () => {
    const plain = handshake(helloFrame({ caps: [] }), env());
    expect(plain).toMatchObject({ ok: true, protocol: 1, presenceDeltas: false });
    const deltas = handshake(helloFrame({ caps: ["presence-deltas", "something-new"] }), env());
    expect(deltas).toMatchObject({ ok: true, presenceDeltas: true });
  });

  test("the runbook's clients: no caps, no instanceId, unknown fields — accepted, caps default to []", () => {
    const { caps: _c, ...hello } = helloFrame();
    const { instanceId: _i, ...client } = hello.client;
    const r = handshake({ ...hello, client: { ...client, model: "Mac14,2" }, extra: 1 }, env());
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.hello.caps).toEqual([]);
      expect(r.hello.client.instanceId).toBeUndefined();
      expect(r.presenceDeltas).toBe(false);
    }
  });

  test("a first frame that is not a hello closes with 1002 and no hello-error", () => {
    const r = handshake({ type: "req", id: "1", method: "health" }, env());
    expect(r).toEqual({ ok: false, code: CloseCode.PROTOCOL_ERROR, reason: "first frame must be hello" });
  });

  test("an invalid hello names the field", () => {
    const r = handshake(helloFrame({ client: { name: "x" } }), env());
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(CloseCode.INVALID_HELLO);
      expect(r.helloError?.reason).toBe("invalid-hello");
      expect(r.helloError?.message).toMatch(/^invalid hello: client\.version: expected "version", got undefined/);
    }
    const crossed = handshake(helloFrame({ minProtocol: 3, maxProtocol: 2 }), env());
    expect(!crossed.ok && crossed.helloError?.message).toContain("minProtocol 3 is above maxProtocol 2");
  });

  test("while shutting down: unavailable with a retry hint", () => {
    const r = handshake(helloFrame(), env({ shuttingDown: true }));
    expect(!r.ok && r.helloError).toMatchObject({ reason: "unavailable", retryAfterMs: 1_000 });
    expect(!r.ok && r.code).toBe(CloseCode.TRY_AGAIN_LATER);
  });

  test("token: missing and wrong are unauthorized and counted; right is accepted", () => {
    const e = env({ token: "s3cret" });
    const missing = handshake(helloFrame(), e);
    expect(!missing.ok && missing.helloError?.message).toBe("token required: send hello.auth.token");
    const wrong = handshake(helloFrame({ auth: { token: "nope" } }), e);
    expect(!wrong.ok && wrong.code).toBe(CloseCode.UNAUTHORIZED);
    expect(e.failures).toBe(2);
    expect(handshake(helloFrame({ auth: { token: "s3cret" } }), e).ok).toBe(true);
    expect(e.failures).toBe(2);
  });

  test("past the rate limit nothing is compared, not even the right token", () => {
    const e = env({ token: "s3cret", limiter: { retryAfter: () => 4_200, fail: () => {} } });
    const r = handshake(helloFrame({ auth: { token: "s3cret" } }), e);
    expect(!r.ok && r.helloError).toMatchObject({ reason: "rate-limited", retryAfterMs: 4_200 });
    expect(!r.ok && r.helloError?.message).toContain("from 10.0.0.7; retry in 5 s");
  });

  test("no common protocol version: protocol-mismatch with the supported range", () => {
    const r = handshake(helloFrame({ minProtocol: 2, maxProtocol: 5 }), env());
    expect(!r.ok && r.code).toBe(CloseCode.PROTOCOL_MISMATCH);
    expect(!r.ok && r.helloError?.supported).toEqual({ minProtocol: 1, maxProtocol: 1 });
  });
});
