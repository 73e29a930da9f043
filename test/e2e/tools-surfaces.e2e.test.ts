/**
 * Where agent tool calls show, through the compiled binary (issue 24 §3): a chat gets only
 * the answer while the ledger records the calls; `clawdis gateway agent` prints them to
 * stderr; WebChat shows them collapsed under the reply; the server's stderr is in the log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { NODE, runCli, spawnGateway, type RunningGateway } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";
import { launchChromium, webchatUrlFrom } from "../helpers/webchat.ts";
import { EVERYTHING, model, run } from "./suites/tools.ts";

let fake: FakeOpenAi;
let bot: FakeBotApi;
let gw: RunningGateway;
let c: TestClient;
/** server-everything over Streamable HTTP, on a port picked free just before. */
let remote: ChildProcess;
let remotePort: number;

beforeAll(async () => {
  fake = startFakeOpenAi(model);
  bot = startFakeBotApi();
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  remotePort = probe.port!;
  probe.stop(true);
  remote = spawn(NODE, [EVERYTHING, "streamableHttp"], { env: { ...process.env, PORT: String(remotePort) }, stdio: ["ignore", "ignore", "pipe"] });
  let remoteErr = "";
  remote.stderr!.on("data", (d) => (remoteErr += d));
  await until(() => remoteErr.includes("listening"), "the Streamable HTTP server", 15_000);
  gw = await spawnGateway({
    config: {
      gateway: { logLevel: "debug" },
      telegram: { apiRoot: bot.apiRoot, botToken: bot.token, allowFrom: ["@alice"], pollTimeoutS: 2 },
      agent: {
        backend: "openai",
        openai: { baseUrl: fake.url, model: "good" },
        mcp: {
          servers: {
            everything: { command: [NODE, EVERYTHING, "stdio"], allowTools: ["get-*", "echo"] },
            remote: { url: `http://127.0.0.1:${remotePort}/mcp`, lazy: true, allowTools: ["get-sum"] },
          },
        },
      },
    },
  });
  ({ c } = await TestClient.connect(gw.url));
  await until(async () => (await c.request("health")).payload.agent.mcp?.everything?.state === "ready", "everything ready", 20_000);
});
afterAll(async () => {
  c?.close();
  await gw?.stop();
  bot?.stop();
  fake?.stop();
  remote?.kill("SIGKILL");
});

describe("a lazy Streamable HTTP server", () => {
  test("is idle until a run offers tools, then ready with its allowed tool offered", async () => {
    expect((await c.request("health")).payload.agent.mcp.remote).toMatchObject({ state: "idle", tools: 0 });
    const before = fake.requests.length;
    const { final } = await run(c, { message: "hello" });
    expect(final.payload.summary).toBe("plain: hello");
    const names = fake.requests[before]!.body.tools.map((t: any) => t.function.name);
    expect(names).toContain("remote__get-sum");
    expect(names.filter((n: string) => n.startsWith("remote__"))).toEqual(["remote__get-sum"]);
    expect((await c.request("health")).payload.agent.mcp.remote).toMatchObject({ state: "ready", tools: 1 });
  });
});

describe("a chat gets the answer, never the tool calls; the ledger records them", () => {
  test("a Telegram message whose run calls a tool: one reply in the chat, the calls in the message's record", async () => {
    const before = bot.sent("sendMessage").length;
    bot.userSays("add 2 and 3");
    await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "results: The sum of 2 and 3 is 5.", 20_000);
    await Bun.sleep(300);
    const sent = bot.sent("sendMessage").slice(before).map((x) => String(x.params.text));
    // "Let me add." came as a delta before the call; the chat gets the final answer alone.
    expect(sent).toEqual(["results: The sum of 2 and 3 is 5."]);
    const rec = await until(async () => {
      const { records } = (await c.request("ledger.list", { direction: "inbound" })).payload;
      return records.find((r: any) => r.status === "replied" && r.tools);
    }, "the replied record with its tools");
    expect(rec.tools).toHaveLength(1);
    expect(rec.tools[0]).toEqual({ name: "everything__get-sum", ok: true, ms: expect.any(Number) });
  });
});

describe("allowTools", () => {
  test("only tools matching allowTools are offered", async () => {
    const names = fake.requests.at(-1)!.body.tools.map((t: any) => t.function.name).filter((n: string) => n.startsWith("everything__"));
    expect(names).toContain("everything__get-sum");
    expect(names).toContain("everything__echo");
    expect(names.every((n: string) => n === "everything__echo" || n.startsWith("everything__get-"))).toBe(true);
    expect(names).not.toContain("everything__trigger-long-running-operation");
  });
});

describe("clawdis gateway agent", () => {
  test("prints → name {args} and ← name ok N ms to stderr; the reply to stdout", async () => {
    const r = await runCli(["gateway", "agent", "--message", "add 2 and 3", "--url", gw.url], { timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('→ everything__get-sum {"a":2,"b":3}');
    expect(r.stderr).toMatch(/← everything__get-sum ok \d+ ms/);
    expect(r.stdout).toContain("results: The sum of 2 and 3 is 5.");
  });
});

describe("the server's stderr goes to the log at debug", () => {
  test("server-everything's start-up line is in gateway.log", () => {
    const log = readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8");
    expect(log).toContain("mcp everything stderr: Starting default (STDIO) server...");
  });
});

describe("WebChat shows each call under the reply, collapsed", () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(await webchatUrlFrom(gw.stdout), { waitUntil: "domcontentloaded" });
    await page.waitForSelector("#link[data-state=connected]", { timeout: 10_000 });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test("name and outcome in the summary line; arguments and result inside", async () => {
    await page.fill("#composer-input", "add 2 and 3");
    await page.press("#composer-input", "Enter");
    const reply = page.locator(".transcript:not([hidden]) .msg.bot[data-status=ok]").last();
    await reply.waitFor({ timeout: 15_000 });
    const tool = reply.locator(".tools details.tool");
    await tool.and(page.locator("[data-state=ok]")).waitFor({ timeout: 5_000 });
    expect(await tool.count()).toBe(1);
    expect(await tool.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await tool.locator("summary").textContent()).toMatch(/^everything__get-sum · ok · \d+ ms$/);
    expect(await reply.locator(".tool-args").isVisible()).toBe(false);
    await tool.locator("summary").click();
    expect(JSON.parse((await reply.locator(".tool-args").textContent())!)).toEqual({ a: 2, b: 3 });
    expect(await reply.locator(".tool-result").textContent()).toBe("The sum of 2 and 3 is 5.");
    // The tool list sits under the reply's text.
    expect(await reply.locator(".body").textContent()).toContain("results: The sum of 2 and 3 is 5.");
  });
});
