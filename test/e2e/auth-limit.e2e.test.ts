/**
 * Issue 20 §5: every token check counts failures, by network. Through the compiled binary:
 * a wrong `/metrics` Bearer goes through the same limiter as a wrong `hello` (429 past it);
 * 127.0.0.2 and 127.0.0.3 share 127.0.0.1's budget on both doors and on WebChat's sign-in;
 * loopback clients without an Origin are counted too, and the right token is served at
 * once while the budget holds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { request as httpRequest } from "node:http";
import { helloFrame } from "../helpers/client.ts";
import { spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { rawUpgrade } from "../helpers/raw.ts";
import { webchatUrlFrom } from "../helpers/webchat.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const TOKEN = "auth-limit-e2e-token-0b7d";
const LIMIT = 5;

/** An HTTP request from a chosen loopback source address. */
function requestFrom(
  localAddress: string,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: Number(u.port), path: u.pathname, localAddress, method: opts.method ?? "GET", headers: opts.headers ?? {} },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** A hello from a chosen source address, without a browser Origin (as the CLI sends it): the answer's reason or "ok". */
async function helloFrom(localAddress: string, port: number, token: string): Promise<{ outcome: string; at: number }> {
  const raw = await rawUpgrade(port, {}, localAddress);
  expect(raw.head).toStartWith("HTTP/1.1 101");
  const t0 = performance.now();
  const reply = new Promise<string>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error("no answer to hello")), 10_000);
    raw.sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      // One unmasked text frame from the server (short, or with a 16-bit length).
      const short = buf[1]! & 0x7f;
      const [len, at] = short === 126 ? [buf.readUInt16BE(2), 4] : [short, 2];
      if (buf.length < at + len) return;
      clearTimeout(timer);
      const frame = JSON.parse(buf.subarray(at, at + len).toString("utf8"));
      resolve(frame.type === "hello-ok" ? "ok" : frame.reason);
    });
  });
  raw.sendText(JSON.stringify(helloFrame({ auth: { token } })));
  const outcome = await reply;
  raw.close();
  return { outcome, at: performance.now() - t0 };
}

const scrapeFrom = (localAddress: string, port: number, token: string) =>
  requestFrom(localAddress, `http://127.0.0.1:${port}/metrics`, { headers: { Authorization: `Bearer ${token}` } });

describe("the limiter counts by network, on every token check", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await spawnGateway({ target, config: { gateway: { token: TOKEN, authFailuresPerMinute: LIMIT }, webchat: { enabled: false } } });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test("/metrics: wrong Bearers count; past the limit 429 (Retry-After) even with the right token, from any 127/8 address", async () => {
    // The right token is served at once while nothing failed.
    expect((await scrapeFrom("127.0.0.1", gw.port, TOKEN)).status).toBe(200);
    for (let i = 0; i < LIMIT; i++) expect((await scrapeFrom("127.0.0.2", gw.port, `guess-${i}`)).status).toBe(401);
    const limited = await scrapeFrom("127.0.0.2", gw.port, `guess-${LIMIT}`);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(50);
    expect(limited.text).not.toContain(TOKEN);
    // 127.0.0.1 and 127.0.0.3 are the same guesser: the right token is not even compared now.
    expect((await scrapeFrom("127.0.0.1", gw.port, TOKEN)).status).toBe(429);
    expect((await scrapeFrom("127.0.0.3", gw.port, TOKEN)).status).toBe(429);
    // One limiter for both doors: a hello without an Origin (the CLI's) waits too.
    expect((await helloFrom("127.0.0.3", gw.port, TOKEN)).outcome).toBe("rate-limited");
  });
});

describe("loopback hellos without an Origin are counted like everyone's", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await spawnGateway({ target, config: { gateway: { token: TOKEN, authFailuresPerMinute: LIMIT } } });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test("the CLI's right token is answered at once; wrong ones from 127.0.0.2 use up 127/8's budget, /metrics and WebChat sign-in included", async () => {
    const chatUrl = await webchatUrlFrom(gw.stdout);
    const first = await helloFrom("127.0.0.1", gw.port, TOKEN);
    expect(first.outcome).toBe("ok");
    expect(first.at).toBeLessThan(2_000);
    for (let i = 0; i < LIMIT; i++) expect((await helloFrom("127.0.0.2", gw.port, `typo-${i}`)).outcome).toBe("unauthorized");
    expect((await helloFrom("127.0.0.2", gw.port, TOKEN)).outcome).toBe("rate-limited");
    expect((await helloFrom("127.0.0.1", gw.port, TOKEN)).outcome).toBe("rate-limited");
    expect((await scrapeFrom("127.0.0.1", gw.port, TOKEN)).status).toBe(429);

    // WebChat's sign-in has the same rule (core/auth-limit): 127.0.0.2 trips it, 127.0.0.3 with the right token waits.
    const login = (from: string, token: string) =>
      requestFrom(from, `${chatUrl}/api/login`, { method: "POST", headers: { Origin: chatUrl, "Content-Type": "application/json" }, body: JSON.stringify({ token }) });
    for (let i = 0; i < 10; i++) expect((await login("127.0.0.2", `guess-${i}`)).status).toBe(401);
    expect((await login("127.0.0.3", TOKEN)).status).toBe(429);
  });
});
