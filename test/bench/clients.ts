/**
 * A benchmark client process: holds many WebSocket connections so that the bench can
 * reach thousands of clients without one process doing all the receiving. Driven over
 * Bun's IPC by test/bench/run.ts; does the least work per frame it can (string checks,
 * no JSON parsing) so the CPU goes to the server under test.
 *
 * Messages in: connect, watch, report, quiet, stats, close. Timestamps are
 * `performance.timeOrigin + performance.now()` (comparable across processes).
 */
import { now } from "./shared.ts";

interface Sock {
  ws: WebSocket;
  ready: boolean;
  seenAt: number;
}

const socks: Sock[] = [];
let frames = 0;
let bytes = 0;
let lastFrameAt = now();
const closes = new Map<number, number>();
const errors: string[] = [];
let watch: { marker: string; pending: number; times: number[]; done: boolean } | null = null;

function send(msg: unknown): void {
  process.send!(msg);
}

function onFrame(s: Sock, data: string): void {
  frames += 1;
  bytes += data.length;
  lastFrameAt = now();
  if (watch && !watch.done && s.seenAt === 0 && data.includes(watch.marker)) {
    s.seenAt = lastFrameAt;
    watch.times.push(lastFrameAt);
    if (--watch.pending === 0) finishWatch();
  }
}

function finishWatch(): void {
  if (!watch || watch.done) return;
  watch.done = true;
  send({ op: "seen", times: watch.times, missing: watch.pending });
}

function openOne(url: string, hello: string, expect: string, timeoutMs: number): Promise<Sock | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    const s: Sock = { ws, ready: false, seenAt: 0 };
    const timer = setTimeout(() => {
      errors.push("handshake timeout");
      try {
        ws.close();
      } catch {}
      resolve(null);
    }, timeoutMs);
    ws.onopen = () => ws.send(hello.replace("%ID%", crypto.randomUUID()));
    ws.onmessage = (e) => {
      const data = typeof e.data === "string" ? e.data : String(e.data);
      if (!s.ready) {
        clearTimeout(timer);
        if (data.startsWith(expect)) {
          s.ready = true;
          resolve(s);
        } else {
          errors.push(`unexpected first frame ${data.slice(0, 120)}`);
          resolve(null);
        }
        return;
      }
      onFrame(s, data);
    };
    ws.onerror = () => {
      if (!s.ready) {
        clearTimeout(timer);
        errors.push("socket error before handshake");
        resolve(null);
      }
    };
    ws.onclose = (e) => {
      closes.set(e.code, (closes.get(e.code) ?? 0) + 1);
      if (s.ready) {
        s.ready = false;
        if (watch && !watch.done && s.seenAt === 0 && --watch.pending === 0) finishWatch();
      }
    };
  });
}

async function connect(msg: { url: string; count: number; hello: string; expect: string; concurrency: number }) {
  const t0 = now();
  let ok = 0;
  let failed = 0;
  let next = 0;
  const worker = async () => {
    while (next < msg.count) {
      next += 1;
      const s = await openOne(msg.url, msg.hello, msg.expect, 30_000);
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
      watch = { marker: msg.marker, pending: live.length, times: [], done: false };
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
        closes: Object.fromEntries(closes),
        errors: errors.slice(0, 5),
      });
      break;
    case "close": {
      for (const s of socks) {
        try {
          s.ws.close();
        } catch {}
      }
      setTimeout(() => {
        send({ op: "closed" });
        setTimeout(() => process.exit(0), 50);
      }, 300);
      break;
    }
  }
});

send({ op: "up" });
