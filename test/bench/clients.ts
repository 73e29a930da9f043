/**
 * A benchmark client process: holds many WebSocket connections so that the bench can
 * reach thousands of clients without one process doing all the receiving. Driven over
 * Bun's IPC by test/bench/run.ts. Uses the raw client (rawws.ts) and does the least work
 * per frame it can (a byte search, no decoding) so the CPU goes to the server under test.
 *
 * Messages in: connect, watch, report, quiet, stats, close. Timestamps come from
 * shared.ts `now()` (comparable across processes).
 */
import { RawWs, startsWithAscii } from "./rawws.ts";
import { now } from "./shared.ts";

interface Sock {
  ws: RawWs;
  ready: boolean;
  seenAt: number;
  /** Entries in the last full presence list this socket read (-1: none yet). */
  listLen: number;
  lists: number;
}

const socks: Sock[] = [];
let frames = 0;
let bytes = 0;
let lastFrameAt = now();
const closes = new Map<number, number>();
const errors: string[] = [];
const PRESENCE_EVENT = '{"type":"event","event":"presence"';
const INSTANCE = Buffer.from('"instanceId"');
let lastListAt = 0;
let watch: { marker: Buffer; pending: number; times: number[]; done: boolean } | null = null;

function send(msg: unknown): void {
  process.send!(msg);
}

function finishWatch(): void {
  if (!watch || watch.done) return;
  watch.done = true;
  send({ op: "seen", times: watch.times, missing: watch.pending });
}

function onFrame(s: Sock, buf: Uint8Array, start: number, end: number): void {
  frames += 1;
  bytes += end - start;
  lastFrameAt = now();
  // A full list (the runbook's shape) says `"presence":[`; count its entries by their ids.
  if (startsWithAscii(buf, start, end, PRESENCE_EVENT) && startsWithAscii(buf, start + 46, end, '"presence":[')) {
    const b = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
    let n = 0;
    for (let i = b.indexOf(INSTANCE); i >= 0; i = b.indexOf(INSTANCE, i + 12)) n++;
    s.listLen = n;
    s.lists += 1;
    lastListAt = lastFrameAt;
  }
  if (watch && !watch.done && s.seenAt === 0 && Buffer.from(buf.buffer, buf.byteOffset + start, end - start).includes(watch.marker)) {
    s.seenAt = lastFrameAt;
    watch.times.push(lastFrameAt);
    if (--watch.pending === 0) finishWatch();
  }
}

async function openOne(port: number, hello: string, expect: string, timeoutMs: number): Promise<Sock | null> {
  let sock: Sock | null = null;
  let settle: (ok: boolean) => void = () => {};
  const handshaken = new Promise<boolean>((r) => (settle = r));
  try {
    const ws = await RawWs.connect(
      "127.0.0.1",
      port,
      {
        onFrame(_w, buf, start, end) {
          if (!sock) return;
          if (!sock.ready) {
            if (startsWithAscii(buf, start, end, expect)) {
              sock.ready = true;
              settle(true);
            } else {
              errors.push(`unexpected first frame ${RawWs.text(buf, start, Math.min(end, start + 120))}`);
              settle(false);
            }
            return;
          }
          onFrame(sock, buf, start, end);
        },
        onClose(_w, code) {
          closes.set(code, (closes.get(code) ?? 0) + 1);
          if (!sock) return;
          if (!sock.ready) {
            errors.push(`closed ${code} before the hello reply`);
            return settle(false);
          }
          sock.ready = false;
          if (watch && !watch.done && sock.seenAt === 0 && --watch.pending === 0) finishWatch();
        },
      },
      timeoutMs,
    );
    sock = { ws, ready: false, seenAt: 0, listLen: -1, lists: 0 };
    ws.send(hello.replace("%ID%", crypto.randomUUID()));
  } catch (err) {
    errors.push(String((err as Error).message));
    return null;
  }
  const timer = setTimeout(() => {
    errors.push("handshake timeout");
    settle(false);
  }, timeoutMs);
  const ok = await handshaken;
  clearTimeout(timer);
  if (!ok) {
    sock.ws.close();
    return null;
  }
  return sock;
}

async function connect(msg: { port: number; count: number; hello: string; expect: string; concurrency: number }) {
  const t0 = now();
  let ok = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < msg.count) {
      next += 1;
      const s = await openOne(msg.port, msg.hello, msg.expect, 30_000);
      if (s) {
        socks.push(s);
        ok += 1;
      } else failed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(msg.concurrency, msg.count) }, worker));
  send({ op: "connected", ok, failed, ms: now() - t0, errors: errors.slice(0, 5) });
}

process.on("message", (msg: any) => {
  switch (msg.op) {
    case "connect":
      void connect(msg);
      break;
    case "watch": {
      const live = socks.filter((s) => s.ready);
      for (const s of socks) s.seenAt = 0;
      watch = { marker: Buffer.from(msg.marker), pending: live.length, times: [], done: false };
      send({ op: "armed", live: live.length });
      if (live.length === 0) finishWatch();
      break;
    }
    case "report":
      finishWatch();
      break;
    case "quiet": {
      const deadline = now() + msg.maxMs;
      const check = () => {
        const t = now();
        if (t - lastFrameAt >= msg.ms || t >= deadline) send({ op: "quiet", waitedFor: t - lastFrameAt });
        else setTimeout(check, 50);
      };
      check();
      break;
    }
    case "stats":
      send({
        op: "stats",
        frames,
        bytes,
        open: socks.filter((s) => s.ready).length,
        oddFrames: socks.reduce((a, s) => a + s.ws.oddFrames, 0),
        closes: Object.fromEntries(closes),
        errors: errors.slice(0, 5),
      });
      break;
    case "lists": {
      const live = socks.filter((s) => s.ready);
      send({
        op: "lists",
        live: live.length,
        minLen: Math.min(...live.map((s) => s.listLen)),
        maxLen: Math.max(...live.map((s) => s.listLen)),
        lists: live.reduce((a, s) => a + s.lists, 0),
        lastListAt,
      });
      break;
    }
    case "close": {
      for (const s of socks) s.ready = false;
      for (const s of socks) s.ws.close();
      setTimeout(() => {
        send({ op: "closed" });
        setTimeout(() => process.exit(0), 50);
      }, 300);
      break;
    }
  }
});

send({ op: "up" });
