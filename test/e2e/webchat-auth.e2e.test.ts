/**
 * Issue 12: the gateway token guards WebChat too. Against the compiled binary with a token
 * set and WebChat on its loopback bind, in real headless Chromium: nothing reaches the
 * relay without a sign-in; the token, a one-time link or `clawdis webchat --link` signs in;
 * the sign-in survives a restart; a new token ends it. Without a token: no sign-in.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { spawn } from "node:child_process";
import { cliCommand, runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { launchChromium, until, webchatUrlFrom } from "../helpers/webchat.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const TOKEN = "webchat-auth-e2e-token-91c2";

let browser: Browser;
let gw: RunningGateway;
let chatUrl: string;
const pageErrors: string[] = [];

/** The last sign-in link a process printed. */
async function linkFrom(out: () => string): Promise<string> {
  const find = () => [...out().matchAll(/sign-in link \([^)]*\): (http:\/\/\S+)/g)].at(-1)?.[1] ?? "";
  await until(() => find() !== "", 10_000, `a sign-in link in:\n${out()}`);
  return find();
}

/**
 * A WebSocket upgrade by hand, so the test sees the HTTP answer itself (a browser or the
 * WebSocket API only says "failed"). Resolves with the status line.
 */
function upgradeStatus(pageUrl: string, headers: Record<string, string>): Promise<string> {
  const { hostname, port, host } = new URL(pageUrl);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let buf = "";
    const timer = setTimeout(() => reject(new Error("no answer to the upgrade")), 5_000);
    sock.once("error", reject);
    sock.on("connect", () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      sock.write(
        `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}\r\n` +
          `Sec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
    sock.on("data", (d) => {
      buf += d.toString("latin1");
      if (!buf.includes("\r\n")) return;
      clearTimeout(timer);
      sock.destroy();
      resolve(buf.slice(0, buf.indexOf("\r\n")));
    });
  });
}

async function newPage(ctx: BrowserContext, url: string): Promise<Page> {
  const page = await ctx.newPage();
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  await page.goto(url, { waitUntil: "domcontentloaded" });
  return page;
}

async function chat(page: Page, message: string): Promise<string | null> {
  const before = await page.locator(".transcript:not([hidden]) .msg.bot").count();
  await page.fill("#composer-input", message);
  await page.press("#composer-input", "Enter");
  const reply = page.locator(".transcript:not([hidden]) .msg.bot").nth(before);
  await reply.and(page.locator("[data-status=ok]")).waitFor({ timeout: 10_000 });
  return reply.locator(".body").textContent();
}

/** `clawdis webchat --link` for the running gateway. */
async function freshLink(): Promise<string> {
  const res = await runCli(["webchat", "--link"], { target, env: { CLAWDIS_STATE_DIR: gw.stateDir, CLAWDIS_GATEWAY_TOKEN: "" } });
  if (res.code !== 0) throw new Error(`webchat --link failed: ${res.stderr}`);
  return res.stdout.trim();
}

const newContext = () => browser.newContext({ viewport: { width: 1100, height: 800 } });
/** This WebChat's cookie is named after its port (cookies do not tell ports apart). */
const cookieName = () => `clawdis_webchat_${new URL(chatUrl).port}`;
/** The tab secret a signed-in page keeps in its sessionStorage. */
const tabSecret = (page: Page) => page.evaluate(() => sessionStorage.getItem("clawdis-webchat-tab") ?? "");
const sessionCookie = async (ctx: BrowserContext) => (await ctx.cookies(chatUrl)).find((c) => c.name === cookieName());

beforeAll(async () => {
  browser = await launchChromium();
  // stdout is a pipe here: the link is printed only on request (a terminal gets it unasked).
  gw = await spawnGateway({ target, config: { gateway: { token: TOKEN } }, env: { CLAWDIS_PRINT_SIGNIN_LINK: "1" } });
  chatUrl = await webchatUrlFrom(gw.stdout);
});

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

describe("with a token, WebChat on loopback lets nobody past it without a sign-in", () => {
  test("a tokenless socket with a forged same-origin Origin is refused before the upgrade (401)", async () => {
    expect(chatUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await upgradeStatus(chatUrl, { Origin: chatUrl })).toBe("HTTP/1.1 401 Unauthorized");
    // A made-up or tampered cookie is no better than none.
    const forged = `v1.${"A".repeat(22)}.${Date.now() + 60_000}.${"B".repeat(43)}`;
    expect(await upgradeStatus(chatUrl, { Origin: chatUrl, Cookie: `${cookieName()}=${forged}` })).toBe("HTTP/1.1 401 Unauthorized");

    // The exploit, as a plain WebSocket client: it never gets a frame, so no ack or res.
    const frames: string[] = [];
    const ws = new WebSocket(chatUrl.replace("http:", "ws:") + "/ws", { headers: { Origin: chatUrl } } as any);
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "agent", id: "a1", message: "drive the owner's account" }));
      ws.send(JSON.stringify({ type: "send", id: "s1", to: "+15551234567", message: "hi" }));
    };
    ws.onmessage = (e) => void frames.push(String(e.data));
    const outcome = await new Promise<string>((r) => {
      ws.onerror = () => r("error");
      ws.onclose = () => r("closed");
    });
    expect(["error", "closed"]).toContain(outcome);
    expect(frames).toEqual([]);
    expect(readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8")).toContain("refused a WebChat request (session)");
  });

  test("the page shows its sign-in form; the token signs it in with an HttpOnly, SameSite=Strict cookie", async () => {
    const ctx = await newContext();
    const page = await newPage(ctx, chatUrl);
    await page.waitForSelector("#login:not([hidden])");
    expect(await page.locator("#app").isHidden()).toBe(true);
    await page.fill("#login-token", "not-the-token");
    await page.press("#login-token", "Enter");
    await page.locator("#login-error", { hasText: "wrong token" }).waitFor();
    await page.fill("#login-token", TOKEN);
    await page.press("#login-token", "Enter");
    await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
    const cookie = await sessionCookie(ctx);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Strict");
    expect(cookie?.value).not.toContain(TOKEN);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(await chat(page, "signed in with the token")).toBe("signed in with the token");
    await ctx.close();
  });

  test("the one-time link `clawdis gateway` printed signs in once; a second use of it fails", async () => {
    const link = await linkFrom(gw.stdout);
    expect(link).toStartWith(`${chatUrl}/#code=`);
    const code = link.split("#code=")[1]!;
    expect(code.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits in base64url
    // The log file only says a link was made: the usable code went to stdout alone.
    const logFile = readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8");
    expect(logFile).toContain("printed a one-time sign-in link");
    expect(logFile).not.toContain(code);

    const first = await newContext();
    const page = await newPage(first, link);
    await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
    expect(await page.locator("#login").isHidden()).toBe(true);
    expect(page.url()).toBe(`${chatUrl}/`); // the spent code left the address bar
    expect(await chat(page, "signed in by link")).toBe("signed in by link");

    const second = await newContext();
    const again = await newPage(second, link);
    await again.waitForSelector("#login:not([hidden])");
    await again.locator("#login-error", { hasText: "already used or has expired" }).waitFor();
    expect(await sessionCookie(second)).toBeUndefined();
    await Promise.all([first.close(), second.close()]);
  });

  test("`clawdis webchat --link` gets a fresh link through the running gateway (token from the state dir)", async () => {
    const env = { CLAWDIS_STATE_DIR: gw.stateDir, CLAWDIS_GATEWAY_TOKEN: "" };
    const res = await runCli(["webchat", "--link"], { target, env });
    expect(res.code).toBe(0);
    const link = res.stdout.trim();
    expect(link).toMatch(new RegExp(`^${chatUrl.replace(/\./g, "\\.")}/#code=[\\w-]{43}$`));
    expect(res.stderr).toContain("One use, valid for 5 minutes");
    const ctx = await newContext();
    const page = await newPage(ctx, link);
    await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
    await ctx.close();
    expect(readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8")).not.toContain(link.split("#code=")[1]!);
    // Without the token nobody gets a link.
    const refused = await runCli(["webchat", "--link", "--token", "wrong"], { target, env });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe("");
  });

  test("signing out closes the tab's socket, and that cookie stops working", async () => {
    const ctx = await newContext();
    const page = await newPage(ctx, await freshLink());
    await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
    const cookie = (await sessionCookie(ctx))!.value;
    const secret = await tabSecret(page);
    const signedIn = { Origin: chatUrl, Cookie: `${cookieName()}=${cookie}`, "Sec-WebSocket-Protocol": `clawdis-webchat, clawdis-tab.${secret}` };
    expect(await upgradeStatus(chatUrl, signedIn)).toBe("HTTP/1.1 101 Switching Protocols");
    // Signing out takes the tab secret too: the cookie alone cannot sign the owner out.
    expect(await page.evaluate(() => fetch("/api/logout", { method: "POST" }).then((r) => r.status))).toBe(401);
    // Another tab of the same browser signs out: this tab's socket closes and it asks for the token.
    const status = await page.evaluate(
      (s) => fetch("/api/logout", { method: "POST", headers: { "X-Clawdis-Tab": s } }).then((r) => r.status),
      secret,
    );
    expect(status).toBe(200);
    await page.waitForSelector("#login:not([hidden])", { timeout: 10_000 });
    expect(await upgradeStatus(chatUrl, signedIn)).toBe("HTTP/1.1 401 Unauthorized");
    await ctx.close();
  });

  test("a cookie replayed from a page on another port, without the page's secret, gets 401 (issue 20 §2)", async () => {
    // Another local account's page on 127.0.0.1:<its port>: the browser sends it our cookie (ports share cookies).
    const seen: string[] = [];
    const other = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        seen.push(req.headers.get("cookie") ?? "");
        return new Response("<!doctype html><title>another port</title>", { headers: { "Content-Type": "text/html" } });
      },
    });
    const ctx = await newContext();
    try {
      const page = await newPage(ctx, await freshLink());
      await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
      // A second tab of the same WebChat gets the secret from its open sibling: no second sign-in.
      const sibling = await newPage(ctx, chatUrl);
      await sibling.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
      expect(await tabSecret(sibling)).toBe(await tabSecret(page));

      const evil = await newPage(ctx, `http://127.0.0.1:${other.port}/`);
      const stolen = seen.find((c) => c.includes(`${cookieName()}=`));
      expect(stolen).toBeDefined();
      // Its script sees neither the cookie (HttpOnly) nor the secret (sessionStorage is per origin, port included).
      expect(await evil.evaluate(() => [document.cookie, sessionStorage.length])).toEqual(["", 0]);
      // The replay, with a forged Origin: refused on /ws and on every /api route.
      const Cookie = stolen!.split(";").map((p) => p.trim()).find((p) => p.startsWith(`${cookieName()}=`))!;
      expect(await upgradeStatus(chatUrl, { Origin: chatUrl, Cookie })).toBe("HTTP/1.1 401 Unauthorized");
      expect(await upgradeStatus(chatUrl, { Origin: chatUrl, Cookie, "Sec-WebSocket-Protocol": "clawdis-webchat, clawdis-tab.guess" })).toBe(
        "HTTP/1.1 401 Unauthorized",
      );
      expect((await fetch(`${chatUrl}/api/session`, { headers: { Cookie } })).status).toBe(401);
      expect((await fetch(`${chatUrl}/api/logout`, { method: "POST", headers: { Origin: chatUrl, Cookie } })).status).toBe(401);
      expect(readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8")).toContain("refused a WebChat request (session)");
      // The owner's tab never noticed.
      expect(await chat(page, "still mine")).toBe("still mine");
    } finally {
      await ctx.close();
      other.stop(true);
    }
  });

  test("a signed-in page keeps working across a gateway restart, without signing in again", async () => {
    const ctx = await newContext();
    const page = await newPage(ctx, await freshLink());
    await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
    await chat(page, "before the restart");
    // The signing key lives in the state dir, readable by its owner only.
    expect(statSync(join(gw.stateDir, "webchat-session.key")).mode & 0o777).toBe(0o600);

    expect(await gw.stop()).toBe(0);
    await page.waitForSelector("#link:not([data-state=connected])", { timeout: 5_000 });
    gw = await spawnGateway({ target, stateDir: gw.stateDir, args: ["--port", String(gw.port), "--webchat-port", new URL(chatUrl).port] });
    expect(await webchatUrlFrom(gw.stdout)).toBe(chatUrl);
    await page.waitForSelector("#link[data-state=connected]", { timeout: 15_000 });
    expect(await page.locator("#login").isHidden()).toBe(true);
    expect(await chat(page, "after the restart")).toBe("after the restart");

    // A new token ends every sign-in: the same page asks for it after the next restart.
    expect(await gw.stop()).toBe(0);
    writeFileSync(join(gw.stateDir, "clawdis.json"), JSON.stringify({ gateway: { token: `${TOKEN}-rotated` } }));
    gw = await spawnGateway({ target, stateDir: gw.stateDir, args: ["--port", String(gw.port), "--webchat-port", new URL(chatUrl).port] });
    await page.waitForSelector("#login:not([hidden])", { timeout: 15_000 });
    const cookie = (await sessionCookie(ctx))!.value;
    expect(await upgradeStatus(chatUrl, { Origin: chatUrl, Cookie: `${cookieName()}=${cookie}` })).toBe("HTTP/1.1 401 Unauthorized");
    await page.fill("#login-token", `${TOKEN}-rotated`);
    await page.press("#login-token", "Enter");
    await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
    await ctx.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

describe("`clawdis webchat` alone prints its own link", () => {
  test("a standalone WebChat prints a working one-time link; --link for a gateway without WebChat says why (exit 1)", async () => {
    const g = await spawnGateway({ target, config: { gateway: { token: TOKEN }, webchat: { enabled: false } } });
    const [cmd, ...pre] = cliCommand(target);
    const proc = spawn(cmd!, [...pre, "webchat", "--url", g.url, "--port", "0"], {
      env: { ...process.env, CLAWDIS_GATEWAY_TOKEN: TOKEN, CLAWDIS_STATE_DIR: tempStateDir(), CLAWDIS_PRINT_SIGNIN_LINK: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout!.on("data", (d) => (out += d));
    try {
      const link = await linkFrom(() => out);
      const ctx = await newContext();
      const page = await newPage(ctx, link);
      await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
      expect(await chat(page, "standalone, signed in by link")).toBe("standalone, signed in by link");
      await ctx.close();
      const none = await runCli(["webchat", "--link"], { target, env: { CLAWDIS_STATE_DIR: g.stateDir, CLAWDIS_GATEWAY_TOKEN: "" } });
      expect(none.code).toBe(1);
      expect(none.stderr).toContain("this gateway serves no WebChat");
    } finally {
      proc.kill("SIGTERM");
      await g.stop();
    }
  });
});

describe("a working sign-in code never goes to a stdout that is a file or a journal", () => {
  test("with stdout not a terminal (launchd's gateway.stdout.log, systemd's journal) only `clawdis webchat --link` is suggested", async () => {
    const quiet = await spawnGateway({ target, config: { gateway: { token: TOKEN } } });
    try {
      await until(() => quiet.stdout().includes("clawdis webchat --link"), 10_000, `the hint in:\n${quiet.stdout()}`);
      expect(quiet.stdout()).toContain("not printed: stdout is not a terminal");
      expect(quiet.stdout()).not.toContain("sign-in link (one use");
      expect(quiet.stdout()).not.toContain("#code=");
      expect(readFileSync(join(quiet.stateDir, "logs", "gateway.log"), "utf8")).not.toContain("#code=");
      // The owner still gets a link on request.
      const res = await runCli(["webchat", "--link"], { target, env: { CLAWDIS_STATE_DIR: quiet.stateDir, CLAWDIS_GATEWAY_TOKEN: "" } });
      expect(res.code).toBe(0);
      expect(res.stdout.trim()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#code=[\w-]{43}$/);
    } finally {
      await quiet.stop();
    }
  });
});

describe("without a token on loopback, WebChat needs no sign-in (as before)", () => {
  test("the page connects at once; /api/session says none; nothing is printed to sign in with", async () => {
    const open = await spawnGateway({ target, config: {} });
    try {
      const url = await webchatUrlFrom(open.stdout);
      const info = await fetch(`${url}/api/session`).then((r) => r.json());
      expect(info).toEqual({ auth: "none", authenticated: true });
      const ctx = await newContext();
      const page = await newPage(ctx, url);
      await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
      expect(await page.locator("#login").isHidden()).toBe(true);
      expect(await chat(page, "no token here")).toBe("no token here");
      await ctx.close();
      expect(open.stdout()).not.toContain("sign-in link");
      const link = await runCli(["webchat", "--link"], { target, env: { CLAWDIS_STATE_DIR: open.stateDir } });
      expect(link.code).toBe(0);
      expect(link.stdout.trim()).toBe(`${url}/`);
    } finally {
      await open.stop();
    }
  });
});
