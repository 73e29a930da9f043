/**
 * WebChat sign-in sessions, in process over real sockets: what the binary tests cannot
 * wait for (a session expiring) or reach (revokeAll for token rotation), plus the signing
 * key's file and the sign-in failure limit.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { WebAuth } from "../../src/webchat/auth.ts";
import { createWebChat, printSignInLink, signInLinkOnStdout, type WebChat } from "../../src/webchat/server.ts";
import { sessionKeyPath } from "../../src/webchat/session-key.ts";
import { relayProtocols } from "../../src/webchat/tab-secret.ts";
import { tempStateDir } from "../helpers/gateway.ts";

const TOKEN = "sessions-test-token";
const started: WebChat[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.stop()));
});

/** WebChat with a token, relaying to a gateway that is not there (the tab still gets its hello). */
async function serve(opts: { stateDir?: string; sessionTtlMs?: number } = {}) {
  const webchat = createWebChat({ gatewayUrl: "ws://127.0.0.1:9", token: TOKEN, bind: "127.0.0.1", port: 0, log: silentLogger, ...opts });
  started.push(webchat);
  const { url } = await webchat.start();
  return { webchat, url };
}

/** A sign-in: the cookie, and the tab secret the page would keep (both make the session). */
async function login(url: string, body: Record<string, string>): Promise<{ status: number; cookie: string | null; secret: string }> {
  const res = await fetch(`${url}/api/login`, { method: "POST", headers: { Origin: url, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const set = res.headers.get("set-cookie");
  const { secret = "" } = (await res.json()) as { secret?: string };
  return { status: res.status, cookie: set ? set.split(";")[0]! : null, secret };
}

/** POST /api/login from a chosen local source address (127.0.0.0/8 is all loopback on Linux). */
function loginFrom(localAddress: string, url: string, body: Record<string, string>): Promise<{ status: number; cookie: string | null; error?: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: Number(u.port), localAddress, method: "POST", path: "/api/login", headers: { Origin: url, "Content-Type": "application/json" } },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          const set = res.headers["set-cookie"]?.[0];
          resolve({ status: res.statusCode ?? 0, cookie: set ? set.split(";")[0]! : null, error: (JSON.parse(text) as { error?: string }).error });
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** A tab's socket with a sign-in's cookie and secret: resolves once the relay's hello arrived; `closed` has the close code. */
function openTab(url: string, { cookie, secret }: { cookie: string | null; secret: string }) {
  const ws = new WebSocket(`${url.replace("http:", "ws:")}/ws`, { headers: { Origin: url, Cookie: cookie ?? "" }, protocols: relayProtocols(secret) } as any);
  const closed = new Promise<number>((r) => ws.addEventListener("close", (e) => r(e.code)));
  const hello = new Promise<unknown>((resolve, reject) => {
    ws.addEventListener("message", (e) => resolve(JSON.parse(String(e.data))), { once: true });
    ws.addEventListener("error", () => reject(new Error("refused")));
  });
  return { ws, closed, hello };
}

describe("a socket whose session ends is closed", () => {
  test("an expired session closes its socket (4401), and its cookie is refused after", async () => {
    const { url } = await serve({ sessionTtlMs: 1_200 });
    const signIn = await login(url, { token: TOKEN });
    expect(signIn.cookie).toStartWith(`clawdis_webchat_${new URL(url).port}=v1.`);
    const tab = openTab(url, signIn);
    expect(await tab.hello).toMatchObject({ type: "hello" });
    const t0 = Date.now();
    expect(await tab.closed).toBe(4401);
    expect(Date.now() - t0).toBeLessThan(3_000);
    await expect(openTab(url, signIn).hello).rejects.toThrow("refused");
  });

  test("revokeAll ends every session at once and for good (new key in the state dir)", async () => {
    const stateDir = tempStateDir();
    const { webchat, url } = await serve({ stateDir });
    const keyBefore = readFileSync(sessionKeyPath(stateDir), "utf8");
    const a = await login(url, { token: TOKEN });
    const b = await login(url, { code: webchat.signInLink().url.split("#code=")[1]! });
    const tabs = [openTab(url, a), openTab(url, a), openTab(url, b)];
    await Promise.all(tabs.map((t) => t.hello));
    webchat.revokeAll();
    expect(await Promise.all(tabs.map((t) => t.closed))).toEqual([4401, 4401, 4401]);
    expect(readFileSync(sessionKeyPath(stateDir), "utf8")).not.toBe(keyBefore);
    await expect(openTab(url, a).hello).rejects.toThrow("refused");
    // A restarted WebChat on the same state dir still refuses the old cookies.
    await webchat.stop();
    const again = await serve({ stateDir });
    await expect(openTab(again.url, b).hello).rejects.toThrow("refused");
    const fresh = await login(again.url, { token: TOKEN });
    expect(await openTab(again.url, fresh).hello).toMatchObject({ type: "hello" });
    // Rotation: the old token stops signing in, the new one works.
    again.webchat.revokeAll("rotated-token");
    expect((await login(again.url, { token: TOKEN })).status).toBe(401);
    const rotated = await login(again.url, { token: "rotated-token" });
    expect(await openTab(again.url, rotated).hello).toMatchObject({ type: "hello" });
  });
});

describe("the signing key and the sign-in limits", () => {
  test("the key file is created 0600, shared by a second WebChat, and tightened if loosened", async () => {
    const stateDir = tempStateDir();
    const first = await serve({ stateDir });
    const path = sessionKeyPath(stateDir);
    expect(path).toBe(join(stateDir, "webchat-session.key"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const { cookie, secret } = await login(first.url, { token: TOKEN });
    chmodSync(path, 0o644);
    // Another WebChat on the same state dir (and token) trusts the first one's signature
    // (as a restart on the same port does); only the cookie's name differs by port.
    const second = await serve({ stateDir });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const value = cookie!.split("=")[1]!;
    expect(await openTab(second.url, { cookie: `clawdis_webchat_${new URL(second.url).port}=${value}`, secret }).hello).toMatchObject({ type: "hello" });
    const check = (token: string) => new WebAuth({ token, keyFile: path }).check(`clawdis_webchat=${value}`, secret);
    expect(check(TOKEN)).not.toBeNull();
    // The cookie without its tab secret, or with another session's, proves nothing (issue 20 §2).
    expect(new WebAuth({ token: TOKEN, keyFile: path }).check(`clawdis_webchat=${value}`, undefined)).toBeNull();
    expect(new WebAuth({ token: TOKEN, keyFile: path }).check(`clawdis_webchat=${value}`, (await login(first.url, { token: TOKEN })).secret)).toBeNull();
    // Another token writes a new key (issue 20 §8), so coming back to this one revives nothing.
    const keyBefore = readFileSync(path, "utf8");
    expect(check("another-token")).toBeNull();
    expect(readFileSync(path, "utf8")).not.toBe(keyBefore);
    expect(check(TOKEN)).toBeNull();
  });

  test("codes are single use and expire; wrong tokens count toward a limit per address, codes never do", async () => {
    const auth = new WebAuth({ token: TOKEN, codeTtlMs: 50, failuresPerMinute: 3 });
    const { code } = auth.issueCode();
    expect(Buffer.from(code, "base64url").length).toBeGreaterThanOrEqual(16);
    const stale = auth.issueCode();
    expect(auth.redeem(code)?.cookie).toStartWith("v1.");
    expect(auth.redeem(code)).toBeNull();
    await Bun.sleep(80);
    expect(auth.redeem(stale.code)).toBeNull();
    for (let i = 0; i < 5; i++) expect(auth.redeem(`guess-${i}`)).toBeNull();
    expect(auth.limited("10.0.0.1")).toBe(false);
    for (let i = 0; i < 3; i++) expect(auth.login("wrong", "10.0.0.1")).toBeNull();
    expect(auth.limited("10.0.0.1")).toBe(true);
    // Counted by network (core/auth-limit): the same /24 waits, another does not.
    expect(auth.limited("10.0.0.2")).toBe(true);
    expect(auth.limited("10.0.1.2")).toBe(false);
    // Tripped or not, a valid code still signs in.
    expect(auth.redeem(auth.issueCode().code)?.cookie).toStartWith("v1.");
  });

  test("over HTTP: a noisy local address trips the limit for all of loopback; the owner still signs in with a link", async () => {
    const { webchat, url } = await serve();
    // Another local process: same loopback, its own source address (127.0.0.2).
    const noisy = (body: Record<string, string>) => loginFrom("127.0.0.2", url, body);
    const tries = [];
    for (let i = 0; i < 11; i++) tries.push((await noisy({ token: `guess-${i}` })).status);
    expect(tries.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(tries[10]).toBe(429);
    const limited = await noisy({ token: TOKEN });
    expect(limited.status).toBe(429);
    expect(limited.error).toContain("clawdis webchat --link");
    // Wrong codes are neither limited nor counted: 256 random bits are not guessed.
    for (let i = 0; i < 12; i++) expect((await noisy({ code: `guess-${i}` })).status).toBe(401);
    // A valid one-time code gets through the tripped limit.
    const viaLink = await noisy({ code: webchat.signInLink().url.split("#code=")[1]! });
    expect(viaLink.status).toBe(200);
    expect(viaLink.cookie).toStartWith(`clawdis_webchat_${new URL(url).port}=v1.`);
    // 127.0.0.1 and 127.0.0.3 are the same network (issue 20): the token waits there too.
    expect((await loginFrom("127.0.0.3", url, { token: TOKEN })).status).toBe(429);
    expect((await login(url, { token: TOKEN })).status).toBe(429);
  });

  test("sign-in is same-origin only, and a body with neither token nor code is a clear 400", async () => {
    const { url } = await serve();
    const cross = await fetch(`${url}/api/login`, { method: "POST", headers: { Origin: "http://evil.example" }, body: JSON.stringify({ token: TOKEN }) });
    expect(cross.status).toBe(403);
    const empty = await fetch(`${url}/api/login`, { method: "POST", headers: { Origin: url }, body: "{}" });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toBe("expected JSON {token} or {code}");
  });
});

describe("the sign-in link goes to a terminal only", () => {
  test("a terminal gets the link unasked; a pipe or file only with CLAWDIS_PRINT_SIGNIN_LINK=1", async () => {
    expect(signInLinkOnStdout({}, true)).toBe(true);
    expect(signInLinkOnStdout({}, false)).toBe(false);
    expect(signInLinkOnStdout({ CLAWDIS_PRINT_SIGNIN_LINK: "0" }, false)).toBe(false);
    expect(signInLinkOnStdout({ CLAWDIS_PRINT_SIGNIN_LINK: "1" }, false)).toBe(true);
    const { webchat, url } = await serve();
    const written: string[] = [];
    printSignInLink(webchat, silentLogger, { show: false, write: (l) => written.push(l) });
    expect(written).toEqual([]);
    printSignInLink(webchat, silentLogger, { show: true, write: (l) => written.push(l) });
    expect(written).toHaveLength(1);
    const code = /#code=([\w-]{43})\n$/.exec(written[0]!)![1]!;
    expect((await login(url, { code })).status).toBe(200);
  });
});
