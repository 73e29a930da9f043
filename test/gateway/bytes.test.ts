/** Limits that say "bytes" count UTF-8 bytes (non-ASCII text is up to 3 per UTF-16 unit), and frames decode once. */
import { describe, expect, test } from "bun:test";
import { Reclaim } from "../../src/gateway/reclaim.ts";
import { Broadcaster } from "../../src/gateway/broadcast.ts";
import { clipReason, decodeFrame } from "../../src/gateway/codec.ts";
import { Connection, type ConnectionRegistry } from "../../src/gateway/connection.ts";
import type { GatewayContext } from "../../src/gateway/context.ts";
import { Journal } from "../../src/gateway/journal.ts";
import { Presence } from "../../src/gateway/presence.ts";
import { silentLogger } from "../../src/log.ts";
import { GatewayCounters } from "../../src/metrics/counters.ts";
import { CloseCode, describeIssue, HelloSchema } from "../../src/protocol/index.ts";
import * as v from "valibot";
import { helloFrame } from "../helpers/client.ts";

const enc = new TextEncoder();

describe("Frame codec", () => {
  test("text and binary UTF-8 JSON decode alike", () => {
    const frame = { type: "req", id: "1", method: "health", params: { note: "grüße 👋" } };
    expect(decodeFrame(JSON.stringify(frame), 1_000)).toEqual({ ok: true, frame });
    expect(decodeFrame(enc.encode(JSON.stringify(frame)), 1_000)).toEqual({ ok: true, frame });
    expect(decodeFrame(enc.encode(JSON.stringify(frame)).buffer, 1_000)).toEqual({ ok: true, frame });
  });

  test("binary that is not UTF-8 or not JSON is 1007; an unreadable payload is 1003", () => {
    expect(decodeFrame(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), 100)).toMatchObject({ ok: false, code: CloseCode.INVALID_JSON });
    expect(decodeFrame(enc.encode("{nope"), 100)).toMatchObject({ ok: false, code: CloseCode.INVALID_JSON });
    expect(decodeFrame(new Blob(["{}"]), 100)).toMatchObject({ ok: false, code: CloseCode.UNSUPPORTED_DATA });
  });

  test("the size limit is in UTF-8 bytes, for text and binary", () => {
    const text = JSON.stringify({ s: "€".repeat(40) }); // 48 UTF-16 units, 128 bytes
    expect(text.length).toBeLessThan(100);
    expect(decodeFrame(text, 100)).toMatchObject({ ok: false, code: CloseCode.MESSAGE_TOO_BIG });
    expect(decodeFrame(enc.encode(text), 100)).toMatchObject({ ok: false, code: CloseCode.MESSAGE_TOO_BIG });
    expect(decodeFrame(text, 128).ok).toBe(true);
  });

  test("close reasons are clipped to 123 UTF-8 bytes", () => {
    const reason = clipReason(`bad: ${"€".repeat(100)}`);
    expect(enc.encode(reason).length).toBeLessThanOrEqual(123);
    expect(reason.startsWith("bad: €")).toBe(true);
  });

  test("one issue formatter: field, expected, received", () => {
    const bad = v.safeParse(HelloSchema, helloFrame({ minProtocol: "1" }));
    expect(bad.success).toBe(false);
    const issue = describeIssue(bad.issues![0], "hello");
    expect(issue).toMatchObject({ field: "minProtocol", expected: "number", received: '"1"' });
    expect(issue.text).toBe('minProtocol: expected number, got "1"');
    expect(describeIssue(bad.issues![0], "params", true).field).toBe("params.minProtocol");
    expect(describeIssue(undefined, "params").text).toBe("params: expected valid value, got null");
  });
});

describe("Journal: maxBytes is UTF-8 bytes", () => {
  test("non-ASCII events fill the journal by their real size", () => {
    const j = new Journal({ maxEvents: 1_000, maxBytes: 10_000, maxAgeMs: 60_000 });
    const prefix = `{"type":"event","event":"agent","payload":"${"€".repeat(1_000)}"`; // ~3 KB, ~1 K units
    for (let i = 0; i < 10; i++) j.append(prefix);
    // Counting UTF-16 units, all 10 (~10.4 K units) would nearly fit; in bytes only 3 do.
    expect(j.size).toBe(3);
    const all = j.since(`${j.epoch}.7`);
    expect(all).toEqual({ ok: true, entries: expect.any(Array) });
    expect(j.since(`${j.epoch}.6`).ok).toBe(false);
  });

  test("an event with two shapes replays each client's own, with the same cursor", () => {
    const j = new Journal({ maxEvents: 10, maxBytes: 1_000_000, maxAgeMs: 60_000 });
    const start = j.cursor;
    const cursor = j.append('{"d":1', () => '{"f":1');
    const deltas = j.since(start, true);
    const full = j.since(start, false);
    expect(deltas).toEqual({ ok: true, entries: [`{"d":1${cursor}`] });
    expect(full).toEqual({ ok: true, entries: [`{"f":1${cursor}`] });
  });

  test("only the newest full shape is kept: a full-list reader replays that one, a delta reader every delta", () => {
    const j = new Journal({ maxEvents: 100, maxBytes: 1_000_000, maxAgeMs: 60_000 });
    const start = j.cursor;
    const c1 = j.append('{"d":1', () => '{"f":1');
    const c2 = j.append('{"agent":2');
    const c3 = j.append('{"d":3', () => '{"f":3');
    expect(j.since(start, true)).toEqual({ ok: true, entries: [`{"d":1${c1}`, `{"agent":2${c2}`, `{"d":3${c3}`] });
    expect(j.since(start, false)).toEqual({ ok: true, entries: [`{"agent":2${c2}`, `{"f":3${c3}`] });
  });
});

/** A socket that keeps everything it is given (a client that never reads). */
function holdingSocket() {
  const sent: string[] = [];
  let held = 0;
  return {
    sent,
    sock: {
      send: (data: string) => {
        sent.push(data);
        held += Buffer.byteLength(data, "utf8");
      },
      close: () => {},
      bufferedAmount: () => held,
    },
  };
}

function fakeGateway(budgetBytes: number): GatewayContext {
  const journal = new Journal({ maxEvents: 100, maxBytes: 1 << 20, maxAgeMs: 60_000 });
  const broadcaster = new Broadcaster(journal, budgetBytes);
  const presence = new Presence({ ttlMs: 60_000, maxEntries: 100, coalesceMs: 0, publish: () => {} });
  const health = { snapshot: () => ({ ok: true }), version: 1 };
  return {
    config: {
      gateway: { maxPayload: 1 << 20, maxBufferedBytes: 1 << 20, handshakeTimeoutMs: 5_000, tickIntervalMs: 30_000, maxPendingHandshakes: 10, token: undefined },
    },
    log: silentLogger,
    host: "h",
    startedAt: Date.now(),
    build: { version: "0", commit: "x" },
    presence,
    health,
    broadcaster,
    journal,
    clientStats: { joined: 0, left: 0 },
    reclaim: new Reclaim(null),
    shuttingDown: () => false,
    stateVersion: () => ({ presence: presence.version, health: 1 }),
    authLimiter: { retryAfter: () => 0, fail: () => {} },
    metrics: new GatewayCounters(),
  } as unknown as GatewayContext;
}

describe("Broadcast budget: bytes the runtime really holds", () => {
  test("non-ASCII frames use up the total budget by their UTF-8 size", () => {
    const gw = fakeGateway(1 << 30);
    const registry: ConnectionRegistry = { admit: () => true, gone: () => {} };
    const live = [holdingSocket(), holdingSocket(), holdingSocket()];
    const conns = live.map((s, i) => {
      const conn = new Connection(gw, `d${i}`, "127.0.0.1", undefined, registry);
      conn.onOpen(s.sock);
      conn.onMessage(JSON.stringify(helloFrame()));
      expect(s.sent[0]).toContain('"hello-ok"');
      return conn;
    });
    const helloBytes = live[0]!.sock.bufferedAmount();
    const text = "€".repeat(3_000); // 3,000 UTF-16 units, 9,000 bytes
    const units = text.length + 300; // the frame around it: type, event, cursor, seq
    // A budget that three copies fit by UTF-16 units (hello-ok + ~3 K each) but only two by
    // their real bytes (hello-ok + ~9 K each).
    (gw.broadcaster as unknown as { droppableBudget: number }).droppableBudget = 3 * (helloBytes + units);
    gw.broadcaster.broadcast("agent", { text }, { droppable: true });
    const got = live.map((s) => s.sent.some((f) => f.includes(text)));
    expect(got).toEqual([true, true, false]);
    for (const c of conns) c.close(CloseCode.GOING_AWAY, "test over");
  });
});

describe("Presence: the pending flush is cleared as what it is", () => {
  test("stop() right after a leading-edge change (an immediate) publishes nothing", async () => {
    const published: unknown[] = [];
    const p = new Presence({ ttlMs: 60_000, maxEntries: 10, coalesceMs: 50, publish: (d) => published.push(d) });
    p.upsert({ host: "h", ip: "i", version: "1", mode: "cli", ts: 1, instanceId: "a" }, true);
    p.stop();
    await Bun.sleep(80);
    expect(published).toHaveLength(0);
    // And a storm's timer is cleared too.
    p.upsert({ host: "h", ip: "i", version: "1", mode: "cli", ts: 1, instanceId: "b" }, true);
    p.upsert({ host: "h", ip: "i", version: "1", mode: "cli", ts: 1, instanceId: "c" }, true);
    p.stop();
    await Bun.sleep(80);
    expect(published).toHaveLength(0);
  });
});
