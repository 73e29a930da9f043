/** Issue 17 §3: live config through the compiled binary — watched file, SIGHUP, `gateway reload`, token rotation. */
import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient, helloFrame, type Frame } from "../helpers/client.ts";
import { startFakeBotApi } from "../helpers/fake-bot-api.ts";
import { runCli, spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const OLD = "old-token-7d1e4b";
const NEW = "new-token-91c0aa";

let gw: RunningGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

function writeConfig(dir: string, config: unknown): string {
  const text = JSON.stringify(config, null, 2);
  writeFileSync(join(dir, "clawdis.json"), text);
  return createHash("sha256").update(text).digest("hex");
}

async function hello(url: string, token: string): Promise<{ c: TestClient; f: Frame }> {
  const c = await TestClient.open(url);
  c.send(helloFrame({ auth: { token } }));
  const f = await c.next((x) => x.type === "hello-ok" || x.type === "hello-error");
  return { c, f };
}

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const base = { webchat: { enabled: false } };

describe("Token rotation takes effect at once", () => {
  for (const how of ["the watched file", "SIGHUP"] as const) {
    test(`by ${how}: old token refused and its connections closed 4001, new-token clients work`, async () => {
      // For SIGHUP the watcher is off, so the signal is the only way the change can arrive.
      const watchConfig = how !== "SIGHUP";
      gw = await spawnGateway({ target, config: { ...base, gateway: { token: OLD, watchConfig } } });
      const { c: oldClient, f: ok } = await hello(gw.url, OLD);
      expect(ok.type).toBe("hello-ok");

      const hash = writeConfig(gw.stateDir, { ...base, gateway: { token: NEW, watchConfig } });
      if (how === "SIGHUP") {
        await new Promise((r) => setTimeout(r, 300));
        expect((await hello(gw.url, OLD)).f.type).toBe("hello-ok");
        gw.proc.kill("SIGHUP");
      }
      const closed = await Promise.race([oldClient.closed, new Promise<null>((r) => setTimeout(() => r(null), 3_000))]);
      expect(closed).toEqual({ code: 4001, reason: "token rotated" });

      const refused = await hello(gw.url, OLD);
      expect(refused.f).toMatchObject({ type: "hello-error", reason: "unauthorized" });
      expect((await refused.c.closed).code).toBe(4001);

      const { c: fresh, f: freshOk } = await hello(gw.url, NEW);
      expect(freshOk.type).toBe("hello-ok");
      const health = await fresh.request("health");
      expect(health.payload.config).toMatchObject({ file: join(gw.stateDir, "clawdis.json"), hash, restartRequired: [] });
      fresh.close();
      const trigger = how === "SIGHUP" ? "SIGHUP" : "config file changed";
      await until(() => gw!.stdout().includes(`config reloaded (${trigger}): applied gateway.token`), "the reload log line");
      expect(gw.stdout()).not.toContain(NEW);
      expect(gw.stdout()).not.toContain(OLD);
    });
  }

  test("by `clawdis gateway reload` / config.reload: the caller gets its answer, then the same 4001", async () => {
    gw = await spawnGateway({ target, config: { ...base, gateway: { token: OLD, watchConfig: false } } });
    writeConfig(gw.stateDir, { ...base, gateway: { token: NEW, watchConfig: false } });
    const { c: asker } = await hello(gw.url, OLD);
    const answer = await asker.request("config.reload");
    expect(answer.payload).toMatchObject({ applied: true, changed: ["gateway.token"] });
    expect(await asker.closed).toEqual({ code: 4001, reason: "token rotated" });
    // Back to the old token, through the CLI this time.
    writeConfig(gw.stateDir, { ...base, gateway: { token: OLD, watchConfig: false } });
    const res = await runCli(["gateway", "reload", "--url", gw.url, "--token", NEW, "--json"], { target });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ applied: true, changed: ["gateway.token"], restartRequired: [] });
    const { c, f } = await hello(gw.url, OLD);
    expect(f.type).toBe("hello-ok");
    expect((await c.request("status")).ok).toBe(true);
    expect((await hello(gw.url, NEW)).f.type).toBe("hello-error");
    c.close();
  });
});

describe("A file that does not parse or validate is refused whole", () => {
  test("the old config keeps serving, config.reload answers with every problem, a health event goes out", async () => {
    gw = await spawnGateway({ target, config: { ...base, gateway: { token: OLD, tickIntervalMs: 30_000 } } });
    const { c } = await hello(gw.url, OLD);
    // Several problems at once, one of them a key that would otherwise apply live.
    writeFileSync(join(gw.stateDir, "clawdis.json"), JSON.stringify({ ...base, gateway: { token: NEW, tickIntervalMs: "soon", prot: 1 } }));
    const res = await c.request("config.reload");
    expect(res.ok).toBe(true);
    expect(res.payload.applied).toBe(false);
    expect(res.payload.problems).toEqual(['gateway.tickIntervalMs: expected number, got "soon"', "gateway.prot: unknown key (remove it or check its spelling)"]);
    const ev = await c.next((f) => f.type === "event" && f.event === "health" && f.payload.config?.lastError !== undefined);
    expect(ev.payload.config.lastError.problems).toHaveLength(2);

    // Nothing of the new file applied: the old token still opens the door, the new one does not.
    expect((await hello(gw.url, OLD)).f.type).toBe("hello-ok");
    expect((await hello(gw.url, NEW)).f.type).toBe("hello-error");
    expect((await c.request("health")).ok).toBe(true);

    const cli = await runCli(["gateway", "reload", "--url", gw.url, "--token", OLD], { target });
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain("gateway.tickIntervalMs");
    expect(gw.stdout()).toContain("refused; the running config stays");
    expect(gw.stdout()).toContain('gateway.tickIntervalMs: expected number, got "soon"');
    c.close();
  });
});

describe("A reload never leaves a non-loopback gateway without a token", () => {
  test("started on 0.0.0.0 with a token, a file with bind 127.0.0.1 and no token is refused whole: the token still guards the running bind", async () => {
    gw = await spawnGateway({ target, config: { ...base, gateway: { bind: "0.0.0.0", token: OLD, watchConfig: false } } });
    const { c } = await hello(gw.url, OLD);
    // gateway.bind is restart-only: serving this file now would mean 0.0.0.0 with no token.
    writeConfig(gw.stateDir, { ...base, gateway: { bind: "127.0.0.1", watchConfig: false } });
    const res = await c.request("config.reload");
    expect(res.payload.applied).toBe(false);
    expect(res.payload.problems).toHaveLength(1);
    expect(res.payload.problems[0]).toContain("keeps listening on 0.0.0.0");
    expect(res.payload.problems[0]).toContain("Keep gateway.token in the file");
    // A tokenless client is still refused; the token holder keeps working.
    const tokenless = await TestClient.open(gw.url);
    tokenless.send(helloFrame({}));
    expect(await tokenless.next((x) => x.type === "hello-ok" || x.type === "hello-error")).toMatchObject({ type: "hello-error", reason: "unauthorized" });
    expect((await c.request("status")).ok).toBe(true);
    expect((await c.request("health")).payload.config.lastError.problems[0]).toContain("0.0.0.0");
    expect(gw.stdout()).toContain("refused; the running config stays");
    expect(gw.stdout()).not.toContain(OLD);
    c.close();
  });
});

describe("A file token that the environment or a flag overrides is never silently ignored", () => {
  const ENV = "env-token-4be2c9";
  test("CLAWDIS_GATEWAY_TOKEN wins: rotating in the file warns (log, health.config, config.reload) and the env token stays in force", async () => {
    gw = await spawnGateway({ target, config: { ...base, gateway: { token: OLD, watchConfig: false } }, env: { CLAWDIS_GATEWAY_TOKEN: ENV } });
    const { c, f } = await hello(gw.url, ENV);
    expect(f.type).toBe("hello-ok");
    const before = (await c.request("health")).payload.config;
    expect(before.tokenSource).toBe("env");
    expect(before.warnings).toHaveLength(1);
    expect(before.warnings[0]).toContain("CLAWDIS_GATEWAY_TOKEN in the environment overrides it");
    await until(() => gw!.stdout().includes("is not the token in force"), "the start-up warning");

    // The operator "rotates" in the file: nothing changes in force, and every channel says why.
    writeConfig(gw.stateDir, { ...base, gateway: { token: NEW, watchConfig: false } });
    const res = await c.request("config.reload");
    expect(res.payload).toMatchObject({ applied: true, changed: [], restartRequired: [] });
    expect(res.payload.warnings[0]).toContain("editing the file does not rotate the token");
    expect(res.payload.warnings[0]).toContain("gateway.env in the state dir");
    expect((await c.request("health")).payload.config).toMatchObject({ tokenSource: "env", warnings: res.payload.warnings });
    expect((await hello(gw.url, NEW)).f.type).toBe("hello-error");
    expect((await hello(gw.url, ENV)).f.type).toBe("hello-ok");
    expect((await c.request("status")).ok).toBe(true); // not closed: the token in force did not change
    await until(() => gw!.stdout().split("is not the token in force").length - 1 >= 2, "the reload warning");
    const cli = await runCli(["gateway", "reload", "--url", gw.url, "--token", ENV], { target });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain("warning: gateway.token in");
    for (const secret of [ENV, OLD, NEW]) expect(gw.stdout() + cli.stdout).not.toContain(secret);
    c.close();
  });

  test("--token wins the same way; a token only in the file reports tokenSource file and no warning", async () => {
    gw = await spawnGateway({ target, config: { ...base, gateway: { token: OLD } }, args: ["--port", "0", "--token", ENV] });
    const { c } = await hello(gw.url, ENV);
    const config = (await c.request("health")).payload.config;
    expect(config.tokenSource).toBe("flag");
    expect(config.warnings[0]).toContain("--token on the command line overrides it");
    expect(config.warnings[0]).toContain("restart the gateway with the new --token");
    c.close();
    await gw.stop();

    gw = await spawnGateway({ target, config: { ...base, gateway: { token: OLD } } });
    const { c: c2 } = await hello(gw.url, OLD);
    const plain = (await c2.request("health")).payload.config;
    expect(plain.tokenSource).toBe("file");
    expect(plain.warnings).toBeUndefined();
    c2.close();
  });
});

describe("What applies live and what waits for a restart", () => {
  test("tick interval applies to what comes next; port and webchat.port are named as restart-required, not half-applied", async () => {
    gw = await spawnGateway({ target, config: { ...base, gateway: { tickIntervalMs: 30_000 } } });
    const { c } = await TestClient.connect(gw.url);
    // (--port 0 on the command line pins the port: a flag wins over the file, on reload too.)
    // telegram.sendTimeoutS and whatsapp.waVersion go to the providers when they are built.
    writeConfig(gw.stateDir, {
      webchat: { enabled: false, port: 9999 },
      gateway: { tickIntervalMs: 200, bind: "localhost", port: 1234 },
      telegram: { sendTimeoutS: 5 },
      whatsapp: { waVersion: [2, 3000, 1] },
    });
    const pending = ["gateway.bind", "telegram.sendTimeoutS", "webchat.port", "whatsapp.waVersion"];
    const res = await c.request("config.reload");
    expect(res.payload).toMatchObject({ applied: true, restartRequired: pending });
    expect(res.payload.changed).toEqual(["gateway.tickIntervalMs"]);
    // Ticks now come every 200 ms on the connection that was there all along.
    const from = c.frames.length;
    await c.next((f) => f.type === "event" && f.event === "tick", 2_000, from);
    await c.next((f) => f.type === "event" && f.event === "tick", 2_000, c.frames.length);
    const health = (await c.request("health")).payload;
    expect(health.config.restartRequired).toEqual(pending);
    expect(gw.stdout()).toContain(`restart required for ${pending.join(", ")}`);
    // Still listening where it started.
    expect((await TestClient.connect(gw.url)).ok.type).toBe("hello-ok");
    c.close();
  });
});

describe("Token rotation ends WebChat sessions", () => {
  test("WebChat's gateway link is closed with the old token and comes back with the new one", async () => {
    gw = await spawnGateway({ target, config: { gateway: { token: OLD } } });
    await until(() => /webchat on http:\/\/127\.0\.0\.1:(\d+)/.test(gw!.stdout()), "webchat to start");
    const { c } = await hello(gw.url, OLD);
    const webchatLinked = async (client: TestClient) =>
      ((await client.request("system-presence")).payload.presence as { mode: string; reason?: string }[]).some((p) => p.mode === "webchat" && p.reason === "connect");
    await until(() => webchatLinked(c), "webchat's gateway link");
    // A browser signed in with the old token: its cookie works before the rotation.
    const port = Number(/webchat on http:\/\/127\.0\.0\.1:(\d+)/.exec(gw.stdout())![1]);
    const chat = `http://127.0.0.1:${port}`;
    const signIn = await fetch(`${chat}/api/login`, { method: "POST", headers: { Origin: chat, "Content-Type": "application/json" }, body: JSON.stringify({ token: OLD }) });
    expect(signIn.status).toBe(200);
    const oldCookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    // A session is the cookie and the page's tab secret together (issue 20 §2).
    const { secret } = (await signIn.json()) as { secret: string };
    const session = async (cookie: string) =>
      ((await (await fetch(`${chat}/api/session`, { headers: { Cookie: cookie, "X-Clawdis-Tab": secret } })).json()) as { authenticated: boolean }).authenticated;
    const upgrade = (cookie: string) =>
      fetch(`${chat}/ws`, { headers: { Origin: chat, Cookie: cookie, Upgrade: "websocket", Connection: "Upgrade", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" } });
    expect(await session(oldCookie)).toBe(true);

    writeConfig(gw.stateDir, { gateway: { token: NEW } });
    expect((await c.closed).code).toBe(4001);
    await until(() => gw!.stdout().includes("webchat restarted with the rotated token"), "the webchat restart");
    const page = await fetch(`${chat}/`);
    expect(page.status).toBe(200);
    // The old session is dead: the page asks for a sign-in and the relay socket is refused before the upgrade.
    expect(await session(oldCookie)).toBe(false);
    expect((await upgrade(oldCookie)).status).toBe(401);
    const fresh401 = await fetch(`${chat}/api/login`, { method: "POST", headers: { Origin: chat, "Content-Type": "application/json" }, body: JSON.stringify({ token: OLD }) });
    expect(fresh401.status).toBe(401);
    const { c: fresh } = await hello(gw.url, NEW);
    await until(() => webchatLinked(fresh), "webchat's link with the new token");
    fresh.close();
  });
});

describe("Agent settings, allow-lists and log level apply to what comes next", () => {
  test("agent.backend switches for the next run; gateway.logLevel debug starts writing debug records; health shows the new backend", async () => {
    gw = await spawnGateway({ target, config: { ...base, agent: { backend: "echo" } } });
    const { c } = await TestClient.connect(gw.url);
    const run = async (message: string) => {
      const ack = await c.request("agent", { message, idempotencyKey: crypto.randomUUID() });
      return (await c.next((f) => f.type === "res" && f.id === ack.id && f.payload?.status !== "accepted", 10_000)).payload;
    };
    expect((await run("first")).summary).toContain("first");
    writeConfig(gw.stateDir, {
      ...base,
      gateway: { logLevel: "debug" },
      agent: { backend: "command", command: ["/usr/bin/printf", "from-command:%s", "{{message}}"] },
      whatsapp: { allowFrom: ["+15550001111"] },
    });
    const res = await c.request("config.reload");
    expect(res.payload.changed).toEqual(["agent.backend", "agent.command", "gateway.logLevel", "whatsapp.allowFrom"]);
    expect((await c.request("health")).payload.agent.backend).toBe("command");
    expect((await run("second")).summary).toBe("from-command:second");
    // Debug records (one per req/res) now reach the log file.
    await c.request("status");
    const logs = await runCli(["gateway", "logs", "--json", "--level", "debug"], { target, env: { CLAWDIS_STATE_DIR: gw.stateDir } });
    const debug = logs.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.level === "debug");
    expect(debug.some((r) => r.msg === "req")).toBe(true);
    c.close();
  });

  test("a backend that cannot be built refuses the reload whole", async () => {
    gw = await spawnGateway({ target, config: { ...base, agent: { backend: "echo" } } });
    const { c } = await TestClient.connect(gw.url);
    writeConfig(gw.stateDir, { ...base, gateway: { tickIntervalMs: 1_000 }, agent: { backend: "command" } });
    const res = await c.request("config.reload");
    expect(res.payload.applied).toBe(false);
    expect(res.payload.problems[0]).toContain("agent.command: required");
    expect((await c.request("health")).payload.agent.backend).toBe("echo");
    c.close();
  });
});

describe("Allow-lists apply to the next inbound message", () => {
  test("telegram.allowFrom widened by a reload: the next message from that sender starts a run and is answered", async () => {
    const bot = startFakeBotApi();
    try {
      const telegram = { apiRoot: bot.apiRoot, pollTimeoutS: 1 };
      gw = await spawnGateway({ target, config: { ...base, telegram: { ...telegram, allowFrom: [] } }, env: { TELEGRAM_BOT_TOKEN: bot.token } });
      const { c } = await TestClient.connect(gw.url);
      await until(async () => (await c.request("health")).payload.telegram.connected === true, "telegram to connect");
      bot.userSays("before the reload");
      await until(async () => {
        const recs = (await c.request("ledger.list", { direction: "inbound" })).payload.records as { status: string; reason?: string }[];
        return recs.some((r) => r.status === "skipped" && (r.reason ?? "").includes("telegram.allowFrom"));
      }, "the first message to be skipped");
      writeConfig(gw.stateDir, { ...base, telegram: { ...telegram, allowFrom: ["@alice"] } });
      const res = await c.request("config.reload");
      expect(res.payload).toMatchObject({ applied: true, changed: ["telegram.allowFrom"], restartRequired: [] });
      bot.userSays("after the reload");
      const reply = await bot.waitFor((x) => x.method === "sendMessage" && String(x.params.text).includes("after the reload"), 10_000);
      expect(String(reply.params.chat_id)).toBe("4242");
      expect(bot.sent().some((x) => String(x.params.text).includes("before the reload"))).toBe(false);
      c.close();
    } finally {
      await gw?.stop();
      gw = null;
      bot.stop();
    }
  });
});
