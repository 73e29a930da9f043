/** Issue 17 §1: `clawdis doctor` through the compiled binary; it never needs the gateway running. */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { startFakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi } from "../helpers/fake-openai.ts";
import { runCli, spawnGateway, tempStateDir, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

interface Finding {
  id: string;
  status: "ok" | "warn" | "fail";
  message: string;
  fix?: string;
}

/** A port nothing listens on (taken and released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function healthyDir(config: Record<string, unknown> = {}): Promise<string> {
  const dir = tempStateDir({ gateway: { port: await freePort() }, ...config });
  chmodSync(dir, 0o700);
  chmodSync(join(dir, "clawdis.json"), 0o600);
  return dir;
}

async function doctor(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  return runCli(["doctor", ...args], { target, env: { CLAWDIS_STATE_DIR: dir, CLAWDIS_GATEWAY_TOKEN: "", TELEGRAM_BOT_TOKEN: "", OPENAI_API_KEY: "", ...env } });
}

const byId = (findings: Finding[]) => Object.fromEntries(findings.map((f) => [f.id, f]));

describe("doctor on a healthy state dir", () => {
  test("exits 0; --json lists every check with ok or warn", async () => {
    const dir = await healthyDir();
    const human = await doctor(dir);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("no failures");
    const res = await doctor(dir, ["--json"]);
    expect(res.code).toBe(0);
    const findings = JSON.parse(res.stdout) as Finding[];
    expect(findings.map((f) => f.id)).toEqual(["config", "modes", "lock", "port", "bind", "token", "whatsapp", "whatsapp-self", "telegram", "telegram-groups", "agent", "agent-doors", "disk", "sizes", "corrupt"]);
    for (const f of findings) {
      expect(["ok", "warn"]).toContain(f.status);
      expect(f.message.length).toBeGreaterThan(0);
    }
  });
});

describe("doctor on a broken state dir: 0644 credentials, a stale lock, a broken config", () => {
  test("exits 1 naming each; --fix repairs the modes and the lock and says so; --json parses", async () => {
    const dir = tempStateDir('{ gateway: { port: "soon", prot: 1 } }');
    chmodSync(dir, 0o700);
    const creds = join(dir, "credentials", "whatsapp");
    mkdirSync(creds, { recursive: true, mode: 0o700 });
    writeFileSync(join(creds, "creds.json"), JSON.stringify({ noiseKey: "k" }), { mode: 0o644 });
    chmodSync(join(creds, "creds.json"), 0o644);
    // Every other place that holds a secret or a message body, left open to others.
    const loose = {
      files: ["webchat-session.key", "outbox/0001.json", "inbound/0001.json", "pairing/telegram.json", "media/photo.jpg"].map((f) => join(dir, f)),
      dirs: ["outbox", "inbound", "media", "pairing"].map((d) => join(dir, d)),
    };
    for (const d of loose.dirs) mkdirSync(d, { mode: 0o755 });
    for (const f of loose.files) writeFileSync(f, "{}", { mode: 0o644 });
    for (const d of loose.dirs) chmodSync(d, 0o755);
    for (const f of loose.files) chmodSync(f, 0o644);
    // A pid that cannot be running: far above any pid_max.
    writeFileSync(join(dir, "gateway.lock"), JSON.stringify({ pid: 2 ** 30, startedAt: new Date().toISOString(), port: 1 }), { mode: 0o600 });

    const human = await doctor(dir);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain("gateway.port: expected number");
    expect(human.stdout).toContain("gateway.prot: unknown key");
    expect(human.stdout).toContain(`${join(creds, "creds.json")} is 0644`);
    expect(human.stdout).toContain("stale lock");
    for (const d of loose.dirs) expect(human.stdout).toContain(`${d} is 0755`);
    for (const f of loose.files) expect(human.stdout).toContain(`${f} is 0644`);

    const json = await doctor(dir, ["--json"]);
    expect(json.code).toBe(1);
    const f = byId(JSON.parse(json.stdout) as Finding[]);
    expect(f.config!.status).toBe("fail");
    expect(f.modes!.status).toBe("fail");
    expect(f.lock!.status).toBe("warn");
    expect(f.whatsapp!.status).toBe("warn"); // valid creds, no backup
    for (const x of [f.config, f.modes, f.lock, f.whatsapp]) expect(x!.fix).toBeString();

    const fixed = await doctor(dir, ["--fix"]);
    expect(fixed.code).toBe(1); // the config still fails: doctor never rewrites it
    expect(fixed.stdout).toContain(`changed: chmod 600 ${join(creds, "creds.json")} (was 0644)`);
    expect(fixed.stdout).toContain(`changed: removed stale lock ${join(dir, "gateway.lock")}`);
    expect(fixed.stdout).toContain(`changed: copied ${join(creds, "creds.json")} to ${join(creds, "creds.json.bak")}`);
    expect(statSync(join(creds, "creds.json")).mode & 0o777).toBe(0o600);
    for (const d of loose.dirs) {
      expect(fixed.stdout).toContain(`changed: chmod 700 ${d} (was 0755)`);
      expect(statSync(d).mode & 0o777).toBe(0o700);
    }
    for (const f of loose.files) {
      expect(fixed.stdout).toContain(`changed: chmod 600 ${f} (was 0644)`);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(creds, "creds.json.bak")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(creds, "creds.json.bak"), "utf8")).toBe(JSON.stringify({ noiseKey: "k" }));
    expect(existsSync(join(dir, "gateway.lock"))).toBe(false);

    writeFileSync(join(dir, "clawdis.json"), JSON.stringify({ gateway: { port: await freePort() } }));
    const after = await doctor(dir, ["--json"]);
    expect(after.code).toBe(0);
    expect(byId(JSON.parse(after.stdout) as Finding[]).modes!.status).toBe("ok");
  });

  test("a non-loopback bind without a token fails; a config holding a token must not be world-readable", async () => {
    const open = await healthyDir({ gateway: { port: await freePort(), bind: "0.0.0.0" } });
    const r1 = byId(JSON.parse((await doctor(open, ["--json"])).stdout) as Finding[]);
    expect(r1.bind!.status).toBe("fail");
    const withToken = await healthyDir({ gateway: { port: await freePort(), token: "cfg-secret-0c1d" } });
    chmodSync(join(withToken, "clawdis.json"), 0o644);
    const res = await doctor(withToken, ["--json"]);
    expect(byId(JSON.parse(res.stdout) as Finding[]).modes!.status).toBe("fail");
    expect(res.stdout + res.stderr).not.toContain("cfg-secret-0c1d");
  });
});

describe("doctor warns when a token is set both in the file and in the environment", () => {
  test("the environment (this shell's, or the service's gateway.env) wins, so editing the file would rotate nothing", async () => {
    const dir = await healthyDir({ gateway: { port: await freePort(), token: "file-secret-5e1a" } });
    const alone = byId(JSON.parse((await doctor(dir, ["--json"])).stdout) as Finding[]);
    expect(alone.token).toMatchObject({ status: "ok" });
    expect(alone.token!.message).toContain("gateway token from");

    const viaShell = await doctor(dir, ["--json"], { CLAWDIS_GATEWAY_TOKEN: "env-secret-77b0" });
    expect(viaShell.code).toBe(0); // a warning, not a failure
    const shell = byId(JSON.parse(viaShell.stdout) as Finding[]).token!;
    expect(shell.status).toBe("warn");
    expect(shell.message).toContain("CLAWDIS_GATEWAY_TOKEN in this environment");
    expect(shell.message).toContain("does not rotate");
    expect(shell.fix).toContain("gateway.env");

    // The service's env file, which this shell never loaded.
    writeFileSync(join(dir, "gateway.env"), "# written by clawdis gateway install\nCLAWDIS_GATEWAY_TOKEN=env-secret-77b0\n", { mode: 0o600 });
    const viaFile = await doctor(dir);
    expect(viaFile.stdout).toMatch(/warn {2}token +gateway\.token is set both in .*clawdis\.json and by CLAWDIS_GATEWAY_TOKEN in .*gateway\.env/);
    for (const out of [viaShell.stdout + viaShell.stderr, viaFile.stdout + viaFile.stderr]) {
      expect(out).not.toContain("file-secret-5e1a");
      expect(out).not.toContain("env-secret-77b0");
    }
    // A commented-out line (what install writes without a token) sets nothing.
    writeFileSync(join(dir, "gateway.env"), "# CLAWDIS_GATEWAY_TOKEN=\n", { mode: 0o600 });
    expect(byId(JSON.parse((await doctor(dir, ["--json"])).stdout) as Finding[]).token!.status).toBe("ok");
  });
});

describe("doctor probes the outside world without printing a secret", () => {
  const bot = startFakeBotApi("777:doctor-bot-secret");
  const openai = startFakeOpenAi(undefined, { apiKey: "sk-doctor-secret" });
  afterAll(() => {
    bot.stop();
    openai.stop();
  });

  test("Telegram getMe accepted / rejected; OpenAI key accepted / rejected; command backend missing", async () => {
    const good = await healthyDir({
      telegram: { botToken: "777:doctor-bot-secret", apiRoot: bot.apiRoot },
      agent: { backend: "openai", openai: { baseUrl: openai.url } },
    });
    const ok = await doctor(good, ["--json"], { OPENAI_API_KEY: "sk-doctor-secret" });
    const f = byId(JSON.parse(ok.stdout) as Finding[]);
    expect(f.telegram).toMatchObject({ status: "ok" });
    expect(f.telegram!.message).toContain("token accepted");
    expect(f.agent).toMatchObject({ status: "ok" });
    expect(ok.code).toBe(0);

    const bad = await healthyDir({
      telegram: { botToken: "777:wrong-bot-secret", apiRoot: bot.apiRoot },
      agent: { backend: "openai", openai: { baseUrl: openai.url } },
    });
    const res = await doctor(bad, [], { OPENAI_API_KEY: "sk-wrong-secret" });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/FAIL\s+telegram\s+the bot token was rejected/);
    expect(res.stdout).toMatch(/FAIL\s+agent\s+openai backend: .* rejects the key in OPENAI_API_KEY/);
    for (const secret of ["777:wrong-bot-secret", "sk-wrong-secret", "wrong-bot-secret"]) expect(res.stdout + res.stderr).not.toContain(secret);

    const cmd = await healthyDir({ agent: { backend: "command", command: ["/nonexistent/agent-bin", "{{message}}"] } });
    const c = byId(JSON.parse((await doctor(cmd, ["--json"])).stdout) as Finding[]);
    expect(c.agent).toMatchObject({ status: "fail" });
    expect(c.agent!.message).toContain("/nonexistent/agent-bin is not an executable file");
  });
});

describe("doctor and a running gateway", () => {
  test("the port held by this state dir's gateway reports its version, uptime and health; held by something else names it", async () => {
    const port = await freePort();
    const dir = await healthyDir({ gateway: { port, token: "run-secret-44" }, webchat: { enabled: false } });
    const gw = await spawnGateway({ target, stateDir: dir, args: [] });
    try {
      const res = await doctor(dir, ["--json"]);
      const f = byId(JSON.parse(res.stdout) as Finding[]);
      expect(f.port!.status).toBe("ok");
      expect(f.port!.message).toMatch(/held by this state dir's gateway \(pid \d+\): clawdis \S+ \(\S+\), up \d+ s, health ok/);
      expect(f.lock!.message).toContain("held by the running gateway");
      expect(res.stdout).not.toContain("run-secret-44");
      // The same port seen from another state dir: someone else's process.
      const other = await healthyDir({ gateway: { port } });
      const o = byId(JSON.parse((await doctor(other, ["--json"])).stdout) as Finding[]);
      expect(o.port!.status).toBe("fail");
      expect(o.port!.message).toContain(`127.0.0.1:${port} is in use by`);
    } finally {
      await gw.stop();
    }
  });
});

describe("doctor on WhatsApp with your own number (issue 23 §1)", () => {
  test("self chat on with dmPolicy open or pairing warns that strangers get answers from your account; a dedicated number (selfChat false) does not", async () => {
    const open = byId(JSON.parse((await doctor(await healthyDir({ whatsapp: { dmPolicy: "open" } }), ["--json"])).stdout));
    expect(open["whatsapp-self"]).toMatchObject({ status: "warn", message: expect.stringContaining("anyone who writes to your number gets the assistant's answers from your account") });
    expect(open["whatsapp-self"]!.fix).toContain("whatsapp.selfChat: false");
    const pairing = byId(JSON.parse((await doctor(await healthyDir({ whatsapp: { dmPolicy: "pairing" } }), ["--json"])).stdout));
    expect(pairing["whatsapp-self"]).toMatchObject({ status: "warn", message: expect.stringContaining("pairing code from your account") });
    const dedicated = byId(JSON.parse((await doctor(await healthyDir({ whatsapp: { dmPolicy: "open", selfChat: false } }), ["--json"])).stdout));
    expect(dedicated["whatsapp-self"]).toMatchObject({ status: "ok" });
  });
});

describe("doctor on what the agent can reach, seen from another local account", () => {
  test("MCP tools with no gateway token, and an agent endpoint on a loopback port, each warn; behind a token on a remote endpoint they do not", async () => {
    const tools = { agent: { mcp: { servers: { files: { command: ["mcp-files", "/home/me/notes"] } } } } };
    const open = byId(JSON.parse((await doctor(await healthyDir(tools), ["--json"])).stdout));
    expect(open["agent-doors"]).toMatchObject({ status: "warn", message: expect.stringContaining("agent.mcp.servers (files) with no gateway token") });
    expect(open["agent-doors"]!.fix).toContain("gateway token");
    const local = byId(JSON.parse((await doctor(await healthyDir({ agent: { backend: "openai", openai: { baseUrl: "http://127.0.0.1:11434/v1" } } }), ["--json"])).stdout));
    expect(local["agent-doors"]).toMatchObject({ status: "warn", message: expect.stringContaining("agent.openai.baseUrl on a loopback port") });
    const closed = byId(JSON.parse((await doctor(await healthyDir({ gateway: { token: "a-long-enough-token" }, ...tools }), ["--json"])).stdout));
    expect(closed["agent-doors"]).toMatchObject({ status: "ok" });
  });

  test("a token set only in the service's gateway.env (not this shell, not the file) counts: no warning about MCP tools", async () => {
    const dir = await healthyDir({ agent: { mcp: { servers: { files: { command: ["mcp-files", "/home/me/notes"] } } } } });
    writeFileSync(join(dir, "gateway.env"), "CLAWDIS_GATEWAY_TOKEN=a-long-enough-token\n", { mode: 0o600 });
    const found = byId(JSON.parse((await doctor(dir, ["--json"])).stdout));
    expect(found["agent-doors"]).toMatchObject({ status: "ok" });
  });
});
