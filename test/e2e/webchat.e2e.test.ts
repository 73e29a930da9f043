/**
 * WebChat in real headless Chromium (Debian chromium through playwright-core) against the
 * compiled binary: the "done when", one describe per rule.
 */
import { lossyWebSocket } from "../helpers/sockets.ts";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { silentLogger } from "../../src/log.ts";
import { Relay } from "../../src/webchat/relay.ts";
import { TestClient } from "../helpers/client.ts";
import { relayProtocols } from "../../src/webchat/tab-secret.ts";
import { launchChromium, until, webchatUrlFrom, screenshotPath } from "../helpers/webchat.ts";
import { cliCommand, ROOT, runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const TOKEN = "webchat-e2e-secret-7f3a9c";

/** Every frame any page received from or sent to the WebChat backend. */
const wsFrames: string[] = [];
const pageErrors: string[] = [];
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

let browser: Browser;
let context: BrowserContext;
let gw: RunningGateway;
let chatUrl: string;

interface StandaloneWebChat {
  url: string;
  proc: ChildProcess;
  out: () => string;
  stop(): Promise<number | null>;
}

/** `clawdis webchat …` on its own, against a gateway elsewhere. */
async function spawnWebChat(args: string[], env: Record<string, string> = {}): Promise<StandaloneWebChat> {
  const [cmd, ...pre] = cliCommand(target);
  const proc = spawn(cmd!, [...pre, "webchat", ...args], {
    env: { ...process.env, CLAWDIS_GATEWAY_TOKEN: "", CLAWDIS_STATE_DIR: tempStateDir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(proc);
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on("exit", (c) => r(c)));
  void exited.then(() => children.delete(proc));
  const url = await webchatUrlFrom(() => out);
  return {
    url,
    proc,
    out: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function openPage(url: string): Promise<Page> {
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  page.on("websocket", (ws) => {
    ws.on("framereceived", (f) => wsFrames.push(String(f.payload)));
    ws.on("framesent", (f) => wsFrames.push(String(f.payload)));
  });
  await page.goto(url, { waitUntil: "domcontentloaded" });
  // With a gateway token the page asks for it first (issue 12); the cookie then lasts.
  await page.waitForSelector("#link[data-state=connected], #login:not([hidden])", { timeout: 10_000 });
  if (await page.locator("#login").isVisible()) {
    await page.fill("#login-token", TOKEN);
    await page.press("#login-token", "Enter");
  }
  await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
  return page;
}


/** Type into the composer and press Enter; resolves with the reply bubble once it is done. */
async function chat(page: Page, message: string) {
  const before = await page.locator(".transcript:not([hidden]) .msg.bot").count();
  await page.fill("#composer-input", message);
  await page.press("#composer-input", "Enter");
  const reply = page.locator(".transcript:not([hidden]) .msg.bot").nth(before);
  await reply.and(page.locator("[data-status=ok]")).waitFor({ timeout: 10_000 });
  return reply;
}

beforeAll(async () => {
  const [b, g] = await Promise.all([
    launchChromium(),
    spawnGateway({ target, config: { gateway: { token: TOKEN } }, args: ["--port", "0", "--webchat-port", "0"] }),
  ]);
  browser = b;
  gw = g;
  context = await browser.newContext({ viewport: { width: 1280, height: 820 }, colorScheme: "light" });
  chatUrl = await webchatUrlFrom(gw.stdout);
});

afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  for (const c of children) c.kill("SIGKILL");
});

describe("`clawdis gateway` serves WebChat beside the gateway", () => {
  test("--webchat-port 0 picks a free port on the gateway's loopback bind and logs it", () => {
    expect(chatUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(chatUrl).port)).not.toBe(gw.port);
  });

  test("the page comes with a strict CSP, every asset from the binary, nothing inline", async () => {
    const res = await fetch(chatUrl);
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const rule of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'"]) {
      expect(csp).toContain(rule);
    }
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    // No inline script or style, and nothing from another host.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const path of ["/markdown.js", "/app.js", "/app.css", "/icon.svg"]) {
      const asset = await fetch(chatUrl + path);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-security-policy")).toBe(csp);
      expect(await asset.text()).not.toContain(TOKEN);
    }
    expect(html).not.toContain(TOKEN);
  });

  test("the relay socket is same-origin only, and answers only to loopback host names", async () => {
    const ws = chatUrl.replace("http:", "ws:") + "/ws";
    const login = await fetch(chatUrl + "/api/login", { method: "POST", headers: { Origin: chatUrl }, body: JSON.stringify({ token: TOKEN }) });
    const Cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    // The page's tab secret rides as a second subprotocol (issue 20 §2).
    const { secret } = (await login.json()) as { secret: string };
    const Protocol = { "Sec-WebSocket-Protocol": relayProtocols(secret).join(", ") };
    await expect(TestClient.open(ws, { Origin: "http://evil.example", Cookie, ...Protocol })).rejects.toThrow();
    await expect(TestClient.open(ws, { Cookie, ...Protocol })).rejects.toThrow(); // no Origin: not a browser page of ours
    await expect(TestClient.open(ws, { Origin: chatUrl })).rejects.toThrow(); // not signed in (issue 12)
    await expect(TestClient.open(ws, { Origin: chatUrl, Cookie })).rejects.toThrow(); // the cookie without the tab's secret
    const ok = await TestClient.open(ws, { Origin: chatUrl, Cookie, ...Protocol });
    ok.close();
    const rebound = await fetch(chatUrl, { headers: { Host: "attacker.example" } });
    expect(rebound.status).toBe(403);
  });
});

/** The tab the chat tests drive; the last test restarts the gateway under it. */
let page: Page;

describe("chat with the agent", () => {
  beforeAll(async () => {
    page = await openPage(chatUrl);
  });

  test("a message gets its reply streamed in, rendered as markdown", async () => {
    const from = wsFrames.length;
    const reply = await chat(page, "hello **bold** and `code` from the browser");
    expect(await reply.locator(".body").textContent()).toBe("hello bold and code from the browser");
    expect(await reply.locator("strong").textContent()).toBe("bold");
    expect(await reply.locator("code").textContent()).toBe("code");
    // It streamed: several assistant deltas of one run reached the page.
    const deltas = wsFrames.slice(from).filter((f) => f.includes('"stream":"assistant"'));
    expect(deltas.length).toBeGreaterThanOrEqual(2);
    const user = page.locator(".transcript:not([hidden]) .msg.user").last();
    expect(await user.textContent()).toContain("hello **bold** and `code` from the browser");
  });

  test("the chat commands work in the chat box (issue 23 §2): /status answers without a run, /new starts over", async () => {
    const first = await chat(page, "remember me");
    expect(await first.locator(".body").textContent()).toContain("remember me");
    const from = wsFrames.length;
    const status = await chat(page, "/status");
    expect(await status.locator(".body").textContent()).toContain("Backend: echo");
    expect(await status.locator(".body").textContent()).toContain("Runs: 0 running, 0 queued");
    const fresh = await chat(page, "/NEW");
    expect(await fresh.locator(".body").textContent()).toMatch(/^New conversation started/);
    // Answered by the gateway: no agent run streamed for either.
    expect(wsFrames.slice(from).filter((f) => f.includes('"stream":"lifecycle"'))).toEqual([]);
    expect(readdirSync(join(gw.stateDir, "sessions")).some((f) => f.startsWith("main.jsonl.ended-"))).toBe(true);
  });

  test("a message containing <script> renders as text, and nothing runs", async () => {
    const evil =
      `<script>document.title="pwned"</script> <img src=x onerror="document.title='pwned2'"> ` +
      `[bad](javascript:alert(1)) [docs](https://example.com/docs)`;
    const reply = await chat(page, evil);
    expect(await reply.locator(".body").textContent()).toContain(`<script>document.title="pwned"</script>`);
    expect(await reply.locator(".body").textContent()).toContain(`<img src=x onerror=`);
    expect(await page.locator("#transcripts script, #transcripts img, #transcripts [onerror]").count()).toBe(0);
    const links = await reply.locator("a").evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    expect(links).toEqual(["https://example.com/docs"]);
    await Bun.sleep(100);
    expect(await page.title()).toBe("clawdis WebChat");
    expect(pageErrors).toEqual([]);
  });

  test("the markdown subset: code, emphasis, lists, http(s) links only; everything else stays text", async () => {
    const render = (src: string) =>
      page.evaluate((text) => {
        const div = document.createElement("div");
        (window as any).ClawdisMarkdown.render(text, div);
        return div.innerHTML;
      }, src);
    expect(await render("**b** *i* _e_ `c` snake_case_name")).toBe("<p><strong>b</strong> <em>i</em> <em>e</em> <code>c</code> snake_case_name</p>");
    expect(await render("```js\nif (a < b) alert(1)\n```")).toBe('<pre><code data-lang="js">if (a &lt; b) alert(1)</code></pre>');
    expect(await render("- one\n- **two**")).toBe("<ul><li>one</li><li><strong>two</strong></li></ul>");
    expect(await render("[x](javascript:alert(1)) [y](data:text/html,hi) [z](http://a.example/p?q=1&r=2)")).toBe(
      '<p>[x](javascript:alert(1)) [y](data:text/html,hi) <a rel="noopener noreferrer nofollow" target="_blank" href="http://a.example/p?q=1&amp;r=2">z</a></p>',
    );
    expect(await render("see https://example.com/x.")).toBe('<p>see <a rel="noopener noreferrer nofollow" target="_blank" href="https://example.com/x">https://example.com/x</a>.</p>');
    // Tags stay text; an entity is its character, as CommonMark says.
    expect(await render('<b onclick="x()">&amp;</b>')).toBe("<p>&lt;b onclick=\"x()\"&gt;&amp;&lt;/b&gt;</p>");
    // A fence still streaming (not closed yet) already shows as code.
    expect(await render("a\n```\npartial")).toBe("<p>a</p><pre><code>partial</code></pre>");
  });

  test("a list right after a paragraph line is a list (issue 23 §6: CommonMark, by marked's lexer)", async () => {
    const reply = await chat(page, "Three things:\n- pack **light**\n- leave at 6\n1. first\n2. second");
    expect(await reply.locator(".body p").first().textContent()).toBe("Three things:");
    expect(await reply.locator(".body ul > li").allTextContents()).toEqual(["pack light", "leave at 6"]);
    expect(await reply.locator(".body ul strong").textContent()).toBe("light");
    expect(await reply.locator(".body ol > li").allTextContents()).toEqual(["first", "second"]);
    expect(await reply.locator(".body").textContent()).not.toContain("- ");
  });

  test("the health badge shows WhatsApp, Telegram and the agent backend", async () => {
    expect(await page.locator("#health [data-key=whatsapp]").textContent()).toBe("WhatsApp not linked");
    expect(await page.locator("#health [data-key=telegram]").textContent()).toBe("Telegram not configured");
    expect(await page.locator("#health [data-key=agent]").textContent()).toBe("Agent: echo");
    // Refresh asks the gateway (health + system-presence through the relay) and redraws.
    const from = wsFrames.length;
    await page.click("#refresh");
    await until(() => wsFrames.slice(from).filter((f) => f.startsWith('{"type":"res"') && f.includes('"ok":true')).length === 2, 5_000, "two answers");
    expect(wsFrames.slice(from).some((f) => f.includes('"type":"system-presence"'))).toBe(true);
    expect(await page.locator("#health [data-key=agent]").textContent()).toBe("Agent: echo");
    expect(await page.locator("#presence li[data-mode=gateway]").count()).toBe(1);
  });

  test("presence lists the gateway and clients, and updates when a second client connects and leaves", async () => {
    await page.locator("#presence li[data-mode=gateway]").waitFor();
    const { c } = await TestClient.connect(gw.url, {
      auth: { token: TOKEN },
      client: { name: "e2e", version: "9.9.9", platform: "linux", mode: "cli", instanceId: "webchat-e2e-second", host: "second-host" },
    });
    const entry = page.locator('#presence li[data-instance="webchat-e2e-second"]');
    await entry.waitFor({ timeout: 5_000 });
    expect(await entry.textContent()).toContain("second-host");
    c.close();
    await entry.waitFor({ state: "detached", timeout: 5_000 });
  });

  test("a run started elsewhere (another client) shows up as it streams", async () => {
    const { c } = await TestClient.connect(gw.url, { auth: { token: TOKEN } });
    const res = await c.request("agent", { message: "a run started from the *command line*", idempotencyKey: crypto.randomUUID() });
    expect(res.payload.status).toBe("accepted");
    const bubble = page.locator(".msg.bot", { hasText: "a run started from the command line" });
    await bubble.waitFor({ timeout: 5_000 });
    expect(await bubble.locator(".meta").textContent()).toContain("started elsewhere");
    expect(await bubble.locator("em").textContent()).toBe("command line");
    c.close();
  });

  test("every tab shows the others' messages; the backend still holds one gateway connection", async () => {
    const second = await openPage(chatUrl);
    await chat(second, "sent from the second tab");
    const seen = page.locator(".msg.user", { hasText: "sent from the second tab" });
    await seen.waitFor({ timeout: 5_000 });
    await page.locator(".msg.bot[data-status=ok]", { hasText: "sent from the second tab" }).waitFor();
    const { c } = await TestClient.connect(gw.url, { auth: { token: TOKEN } });
    const list = await c.request("system-presence");
    expect(list.payload.presence.filter((e: { mode: string }) => e.mode === "webchat")).toHaveLength(1);
    c.close();
    await second.close();
  });

  test("the send box shows the gateway's error (NOT_LINKED) clearly", async () => {
    await page.fill("#send-to", "+15551234567");
    await page.fill("#send-message", "hi from the web");
    await page.click("#send-button");
    const result = page.locator("#send-result[data-kind=error]");
    await result.waitFor({ timeout: 5_000 });
    expect(await result.textContent()).toStartWith("NOT_LINKED: WhatsApp is not linked");
  });

  test("the session picker starts a new session and keeps each conversation apart", async () => {
    await page.click("#new-session");
    const session = await page.inputValue("#session");
    expect(session).toMatch(/^chat-\d{8}-\d{6}$/);
    expect(await page.locator(".transcript:not([hidden]) .msg").count()).toBe(0);
    await chat(page, "a fresh session");
    // The gateway filed the run under that session.
    await until(() => readdirSync(join(gw.stateDir, "sessions")).includes(`${session}.jsonl`), 5_000, "the session file");
    await page.selectOption("#session", "main");
    expect(await page.locator(".transcript:not([hidden]) .msg.user", { hasText: "hello **bold**" }).count()).toBe(1);
    expect(await page.locator(".transcript:not([hidden]) .msg", { hasText: "a fresh session" }).count()).toBe(0);
  });

  test("screenshot mid-conversation (test/e2e/screenshots/webchat.png)", async () => {
    await chat(
      page,
      "Here is what I can render:\n\n- **bold**, *italic* and `inline code`\n- links like [the docs](https://example.com/docs)\n\n```ts\nconst reply = await client.agent({ message: \"hi\" });\n```",
    );
    await page.locator("#composer-input").blur();
    await page.screenshot({ path: screenshotPath(ROOT, "webchat.png") });
  });

  test("usable at phone width and by keyboard alone; respects dark mode", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "dark", hasTouch: true });
    const p = await phone.newPage();
    p.on("pageerror", (err) => pageErrors.push(String(err)));
    await p.goto(chatUrl);
    // A browser of its own: no sibling tab to hand over a secret, so it signs in (by keyboard, Enter submits).
    await p.waitForSelector("#login:not([hidden])");
    await p.fill("#login-token", TOKEN);
    await p.press("#login-token", "Enter");
    await p.waitForSelector("#link[data-state=connected]");
    // A reload keeps the sign-in (the secret is in this tab's sessionStorage) and starts focus afresh.
    await p.reload();
    await p.waitForSelector("#link[data-state=connected]");
    // Nothing wider than the screen.
    expect(await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    // Every control has a label.
    const unlabeled = await p.evaluate(() =>
      [...document.querySelectorAll("input, textarea, select")].filter((e) => (e as HTMLInputElement).labels?.length === 0).map((e) => e.id),
    );
    expect(unlabeled).toEqual([]);
    // Dark background from prefers-color-scheme.
    expect(await p.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(15, 17, 21)");
    // Keyboard only: Tab reaches the skip link, which leads to the message box; Enter sends.
    await p.keyboard.press("Tab");
    expect(await p.evaluate(() => document.activeElement?.className)).toBe("skip");
    await p.keyboard.press("Enter");
    await p.focus("#composer-input"); // the skip link's target (fragment focus is not moved in headless)
    await p.keyboard.type("typed with the keyboard");
    await p.keyboard.press("Enter");
    await p.locator(".msg.bot[data-status=ok]", { hasText: "typed with the keyboard" }).waitFor({ timeout: 5_000 });
    await p.screenshot({ path: screenshotPath(ROOT, "webchat-phone-dark.png") });
    await phone.close();
  });

  test("the browser never receives the gateway token", async () => {
    expect(wsFrames.length).toBeGreaterThan(10);
    expect(wsFrames.some((f) => f.includes(TOKEN))).toBe(false);
    expect(await page.content()).not.toContain(TOKEN);
    expect(await page.evaluate(() => document.cookie)).toBe("");
    expect(pageErrors).toEqual([]);
  });
});

/** A browser tab as the relay sees it: records what it is sent. */
function fakeTab(buffered = 0) {
  const sent: any[] = [];
  let closed: { code: number; reason: string } | null = null;
  return {
    sent,
    closed: () => closed,
    sock: {
      send: (data: string) => void sent.push(JSON.parse(data)),
      close: (code: number, reason: string) => void (closed = { code, reason }),
      bufferedAmount: () => buffered,
    },
  };
}

describe("the relay: gaps refresh every tab; browser input is validated and bounded", () => {
  test("on a seq gap the relay re-reads health and presence and pushes the snapshot to the tabs", async () => {
    let dropped = 0;
    const relay = new Relay({
      url: gw.url,
      token: TOKEN,
      log: silentLogger,
      WebSocket: lossyWebSocket((f) => f.type === "event" && f.event === "presence" && dropped++ === 0),
    });
    await relay.start();
    const tab = fakeTab();
    relay.attach(tab.sock);
    expect(tab.sent[0]).toMatchObject({ type: "hello", state: "connected" });
    const { c: other } = await TestClient.connect(gw.url, {
      auth: { token: TOKEN },
      client: { name: "o", version: "1", platform: "linux", mode: "app", instanceId: "gap-joiner" },
    });
    // The join is the lost event; the note arrives with the next seq and reveals the gap.
    await Bun.sleep(100);
    await other.request("system-event", { text: "after the gap" });
    await until(() => tab.sent.some((m) => m.type === "snapshot" && m.presence.some((e: any) => e.instanceId === "gap-joiner")), 5_000, "the refreshed snapshot");
    other.close();
    // A tab that stopped reading (4 MiB unread) is closed, not buffered for.
    const slow = fakeTab(5 * 1024 * 1024);
    relay.attach(slow.sock);
    expect(slow.closed()?.code).toBe(1008);
    relay.stop();
    expect(tab.closed()?.code).toBe(1001);
  });

  test("invalid, oversize and excess input is refused; the relay stays up", async () => {
    const relay = new Relay({ url: gw.url, token: TOKEN, log: silentLogger, limits: { maxTabs: 2, maxMessageBytes: 1024 } });
    await relay.start();
    const a = fakeTab();
    const ha = relay.attach(a.sock)!;
    ha.onMessage(JSON.stringify({ type: "agent", id: "x1", message: "" }));
    ha.onMessage(JSON.stringify({ type: "shell", id: "x2", command: "rm -rf /" }));
    ha.onMessage(JSON.stringify({ type: "send", id: "x3", to: "+1555", message: "hi", idempotencyKey: "mine" }));
    await until(() => a.sent.filter((m) => m.type === "res").length === 3, 2_000, "three answers");
    const res = a.sent.filter((m) => m.type === "res");
    expect(res.map((m) => [m.id, m.ok, m.error.code, m.error.field])).toEqual([
      ["x1", false, "INVALID_REQUEST", "message"],
      ["x2", false, "INVALID_REQUEST", "type"],
      ["x3", false, "INVALID_REQUEST", "idempotencyKey"],
    ]);
    ha.onMessage("x".repeat(2048));
    expect(a.closed()?.code).toBe(1009);
    const b = fakeTab();
    const c = fakeTab();
    expect(relay.attach(b.sock)).not.toBeNull();
    ha.onClose();
    expect(relay.attach(c.sock)).not.toBeNull();
    const d = fakeTab();
    expect(relay.attach(d.sock)).toBeNull();
    expect(d.closed()?.code).toBe(1013);
    relay.stop();
  });
});

describe("`clawdis webchat` alone: the page recovers when the gateway restarts", () => {
  test("reconnecting… on shutdown, then back and working on the restarted gateway", async () => {
    // webchat.enabled:false — this gateway serves no WebChat; the standalone one does.
    const stateDir = tempStateDir({ gateway: { token: TOKEN }, webchat: { enabled: false } });
    const g1 = await spawnGateway({ target, stateDir });
    const relay = await spawnWebChat(["--url", g1.url, "--port", "0"], { CLAWDIS_GATEWAY_TOKEN: TOKEN });
    let g2: RunningGateway | null = null;
    try {
      const page = await openPage(relay.url);
      expect(g1.stdout()).not.toContain("webchat on");
      await chat(page, "before the restart");

      expect(await g1.stop()).toBe(0);
      await page.waitForSelector("#link[data-state=reconnecting]", { timeout: 5_000 });
      expect(await page.locator("#banner").isVisible()).toBe(true);
      expect(await page.locator("#banner").textContent()).toContain("Reconnecting");
      expect(await page.locator("#composer-send").isDisabled()).toBe(true);

      g2 = await spawnGateway({ target, stateDir, args: ["--port", String(g1.port)] });
      await page.waitForSelector("#link[data-state=connected]", { timeout: 15_000 });
      expect(await page.locator("#banner").isVisible()).toBe(false);
      const reply = await chat(page, "after the restart");
      expect(await reply.locator(".body").textContent()).toBe("after the restart");
      expect(await page.locator(".msg.user", { hasText: "before the restart" }).count()).toBe(1);
      // Presence was re-read from the new gateway.
      await page.locator("#presence li[data-mode=gateway]").waitFor();
      await page.close();
      expect(await relay.stop()).toBe(0);
    } finally {
      await relay.stop();
      await g2?.stop();
      await g1.stop();
    }
  }, 40_000);

  test("a wrong token is refused at once (exit 3); a non-loopback bind needs a token (exit 2)", async () => {
    const g = await spawnGateway({ target, config: { gateway: { token: TOKEN }, webchat: { enabled: false } } });
    try {
      const env = { CLAWDIS_GATEWAY_TOKEN: "", CLAWDIS_STATE_DIR: g.stateDir };
      const wrong = await runCli(["webchat", "--url", g.url, "--token", "not-the-token", "--port", "0"], { target, env });
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toContain("handshake refused");
      const open = await runCli(["webchat", "--url", g.url, "--bind", "0.0.0.0", "--port", "0"], { target, env });
      expect(open.code).toBe(2);
      expect(open.stderr).toContain("refusing to serve WebChat on 0.0.0.0 without a token");
    } finally {
      await g.stop();
    }
  });

  test("beyond loopback the page asks for the token and keeps it server-side (HttpOnly cookie)", async () => {
    const g = await spawnGateway({ target, config: { gateway: { token: TOKEN }, webchat: { enabled: false } } });
    const relay = await spawnWebChat(["--url", g.url, "--bind", "0.0.0.0", "--port", "0"], { CLAWDIS_GATEWAY_TOKEN: TOKEN });
    try {
      const origin = relay.url;
      const refused = await TestClient.open(origin.replace("http:", "ws:") + "/ws", { Origin: origin }).catch((e) => e);
      expect(refused).toBeInstanceOf(Error);
      const bad = await fetch(origin + "/api/login", { method: "POST", headers: { Origin: origin, "Content-Type": "application/json" }, body: '{"token":"nope"}' });
      expect(bad.status).toBe(401);

      const page = await context.newPage();
      page.on("pageerror", (err) => pageErrors.push(String(err)));
      await page.goto(origin);
      await page.waitForSelector("#login:not([hidden])");
      await page.fill("#login-token", TOKEN);
      await page.press("#login-token", "Enter");
      await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
      const cookies = await context.cookies(origin);
      expect(cookies.find((c) => c.name === `clawdis_webchat_${new URL(origin).port}`)?.httpOnly).toBe(true);
      expect(await page.evaluate(() => document.cookie)).toBe("");
      await chat(page, "signed in");
      await page.close();
    } finally {
      await relay.stop();
      await g.stop();
    }
  });
});

describe("`clawdis gateway` restarted as a whole: the open page reconnects by itself", () => {
  test("reconnecting… while the process is gone, then the same page works again and keeps its conversation", async () => {
    const webchatPort = new URL(chatUrl).port;
    expect(await gw.stop()).toBe(0);
    await page.waitForSelector("#link[data-state=reconnecting]", { timeout: 5_000 });
    gw = await spawnGateway({ target, stateDir: gw.stateDir, args: ["--port", String(gw.port), "--webchat-port", webchatPort] });
    expect(await webchatUrlFrom(gw.stdout)).toBe(chatUrl);
    await page.waitForSelector("#link[data-state=connected]", { timeout: 15_000 });
    expect(await page.locator(".transcript:not([hidden]) .msg.user", { hasText: "hello **bold**" }).count()).toBe(1);
    const reply = await chat(page, "back after a full restart");
    expect(await reply.locator(".body").textContent()).toBe("back after a full restart");
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
