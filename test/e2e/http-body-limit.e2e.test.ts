/**
 * Issue 20 §1: request bodies are capped before they are read, on every HTTP route of both
 * ports (the gateway's and WebChat's), with or without a Content-Length. Through the
 * compiled binary: four unauthenticated 120 MB bodies are refused while its RSS stays flat.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { webchatUrlFrom } from "../helpers/webchat.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const TOKEN = "body-limit-e2e-token-5d1e";
const MB = 1024 * 1024;

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

interface Sent {
  /** The response's status line ("" when the server closed without one). */
  status: string;
  /** Body bytes the client had written when the answer came (or the socket closed). */
  sent: number;
}

/**
 * Send `bytes` of body to `path` over a raw socket, as an attacker would: with a
 * Content-Length, or chunked without one. Writing stops at the answer, unless `all` (an
 * attacker who keeps sending the whole body after the 413: the server must drain it, not keep it).
 */
function sendBody(
  port: number,
  method: string,
  path: string,
  bytes: number,
  opts: { chunked: boolean; origin?: string; all?: boolean },
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, "127.0.0.1");
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let head = "";
    let sent = 0;
    let done = false;
    let answeredAt = -1;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const end = head.indexOf("\r\n");
      resolve({ status: end > 0 ? head.slice(0, end) : head, sent: answeredAt < 0 ? sent : answeredAt });
    };
    const timer = setTimeout(() => {
      done = true;
      sock.destroy();
      reject(new Error(`no answer to ${method} ${path} after ${sent} bytes`));
    }, 60_000);
    sock.on("data", (d) => {
      head += d.toString("latin1");
      if (answeredAt < 0 && head.includes("\r\n")) answeredAt = sent;
      if (answeredAt >= 0 && !opts.all) finish();
    });
    sock.on("error", () => finish());
    sock.on("close", () => finish());
    sock.on("connect", async () => {
      const length = opts.chunked ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${bytes}\r\n`;
      const origin = opts.origin ? `Origin: ${opts.origin}\r\n` : "";
      sock.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${origin}Content-Type: application/json\r\n${length}\r\n`);
      while (!done && sent < bytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
        const framed = opts.chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece;
        sent += piece.length;
        // Let the answer be seen: a loop whose writes never block would starve the socket's reads.
        if (sent % MB === 0) await new Promise((r) => setImmediate(r));
        if (!sock.write(framed)) {
          await new Promise<void>((r) => {
            sock.once("drain", r);
            sock.once("close", r);
          });
        }
      }
      if (!done && opts.chunked) sock.write("0\r\n\r\n");
      // Everything is written: give the answer a moment to arrive, then hand over what came.
      if (!done) setTimeout(finish, answeredAt >= 0 ? 50 : 5_000);
    });
  });
}

let gw: RunningGateway;
let chatPort: number;
let chatUrl: string;

beforeAll(async () => {
  gw = await spawnGateway({ target, config: { gateway: { token: TOKEN } } });
  chatUrl = await webchatUrlFrom(gw.stdout);
  chatPort = Number(new URL(chatUrl).port);
});

afterAll(async () => {
  await gw?.stop();
});

describe("bodies are capped before they are read", () => {
  test("four unauthenticated 120 MB bodies (two with a length, two chunked) are refused with RSS under +32 MiB", async () => {
    const pid = gw.proc.pid!;
    // Warm both ports up first, so the baseline includes what a normal request costs.
    await fetch(`${chatUrl}/api/session`).then((r) => r.text());
    await fetch(`http://127.0.0.1:${gw.port}/metrics`).then((r) => r.text());
    const base = rssKiB(pid);
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(pid))), 5);
    try {
      const results = await Promise.all([
        sendBody(chatPort, "POST", "/api/login", 120 * MB, { chunked: false, origin: chatUrl, all: true }),
        sendBody(chatPort, "POST", "/api/login", 120 * MB, { chunked: true, origin: chatUrl, all: true }),
        sendBody(gw.port, "POST", "/metrics", 120 * MB, { chunked: false, all: true }),
        sendBody(gw.port, "GET", "/", 120 * MB, { chunked: true, all: true }),
      ]);
      for (const r of results) expect(r.status).toBe("HTTP/1.1 413 Payload Too Large");
      // With a length the answer comes before the body: it was never read.
      expect(results[0]!.sent).toBeLessThan(120 * MB);
      expect(results[2]!.sent).toBeLessThan(120 * MB);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rssKiB(pid));
    console.log(`gateway RSS ${base} KiB before, peak +${((peak - base) / 1024).toFixed(1)} MiB while refusing 4 × 120 MB`);
    expect((peak - base) / 1024).toBeLessThan(32);
    // Still serving: a normal sign-in works.
    const ok = await fetch(`${chatUrl}/api/login`, { method: "POST", headers: { Origin: chatUrl }, body: JSON.stringify({ token: TOKEN }) });
    expect(ok.status).toBe(200);
  }, 120_000);

  test("every route of both ports answers 413 to a length over its limit, and to a chunked body past it", async () => {
    const routes: [number, string, string][] = [
      [gw.port, "GET", "/"],
      [gw.port, "GET", "/metrics"],
      [gw.port, "POST", "/nowhere"],
      [chatPort, "GET", "/"],
      [chatPort, "GET", "/app.js"],
      [chatPort, "GET", "/api/session"],
      [chatPort, "POST", "/api/login"],
      [chatPort, "POST", "/api/logout"],
      [chatPort, "GET", "/ws"],
      [chatPort, "GET", "/nowhere"],
    ];
    for (const [port, method, path] of routes) {
      for (const chunked of [false, true]) {
        const r = await sendBody(port, method, path, 64 * 1024, { chunked, origin: port === chatPort ? chatUrl : undefined });
        expect(`${method} ${path} ${chunked ? "chunked" : "length"}: ${r.status}`).toBe(
          `${method} ${path} ${chunked ? "chunked" : "length"}: HTTP/1.1 413 Payload Too Large`,
        );
      }
    }
    // Sign-in's 4 KiB: just under is read (a 400 for bad JSON), just over is refused.
    const under = await sendBody(chatPort, "POST", "/api/login", 4096, { chunked: true, origin: chatUrl });
    expect(under.status).toBe("HTTP/1.1 400 Bad Request");
    const over = await sendBody(chatPort, "POST", "/api/login", 4097, { chunked: false, origin: chatUrl });
    expect(over.status).toBe("HTTP/1.1 413 Payload Too Large");
  }, 60_000);
});
