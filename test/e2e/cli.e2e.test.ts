/** The `clawdis gateway …` helpers through the compiled binary: output, exit codes, messages. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BINARY, runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const TOKEN = "cli-token-value";
let gw: RunningGateway;
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { target, env: { CLAWDIS_GATEWAY_TOKEN: TOKEN, ...env } });
const at = () => ["--url", gw.url];

beforeAll(async () => {
  gw = await spawnGateway({ target, config: { gateway: { token: TOKEN } } });
});
afterAll(async () => {
  await gw.stop();
});

describe("CLI helpers talk to the running gateway (exit 0)", () => {
  test("gateway health: readable, and --json prints the payload", async () => {
    const human = await cli(["gateway", "health", ...at()]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("gateway: ok");
    expect(human.stdout).toContain("whatsapp: not linked");
    expect(human.stdout).toContain("agent: echo");
    const json = await cli(["gateway", "health", "--json", ...at()]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, agent: { backend: "echo" } });
  });

  test("gateway status", async () => {
    const res = await cli(["gateway", "status", ...at()]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/clawdis \d+\.\d+\.\d+ \(/);
    expect(res.stdout).toContain("linked: none");
    expect(JSON.parse((await cli(["gateway", "status", "--json", ...at()])).stdout).clients).toBeGreaterThanOrEqual(1);
  });

  test("gateway agent streams the reply and prints the summary", async () => {
    const res = await cli(["gateway", "agent", "--message", "hello from the cli", ...at()]);
    expect(res.code).toBe(0);
    expect(res.stdout).toStartWith("hello from the cli\n");
    expect(res.stdout).toMatch(/\[ok\] runId [0-9a-f-]+: hello from the cli/);
  });

  test("gateway agent --no-wait returns after the ack with the runId; --json prints the final", async () => {
    const nowait = await cli(["gateway", "agent", "--message", "later", "--no-wait", ...at()]);
    expect(nowait.code).toBe(0);
    expect(nowait.stdout).toMatch(/^accepted: runId [0-9a-f-]{36}\n$/);
    const json = await cli(["gateway", "agent", "--message", "as json", "--json", "--session-id", "s1", ...at()]);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: "ok", summary: "as json" });
  });

  test("gateway agent with the same --idempotency-key twice gets the same runId", async () => {
    const key = crypto.randomUUID();
    const a = JSON.parse((await cli(["gateway", "agent", "--message", "once", "--idempotency-key", key, "--json", ...at()])).stdout);
    const b = JSON.parse((await cli(["gateway", "agent", "--message", "once", "--idempotency-key", key, "--json", ...at()])).stdout);
    expect(b.runId).toBe(a.runId);
  });

  test("gateway call invokes any method with --params", async () => {
    const res = await cli(["gateway", "call", "system-event", "--params", '{"text":"from call","tags":["cli"]}', ...at()]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout).entry).toMatchObject({ text: "from call", tags: ["cli"] });
  });
});

describe("CLI exit codes and messages", () => {
  test("1: the gateway answered with an error (code and message printed)", async () => {
    const res = await cli(["gateway", "send", "--to", "+15551234567", "--message", "hi", ...at()]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("NOT_LINKED: WhatsApp is not linked — run clawdis login");
    const bad = await cli(["gateway", "call", "no-such-method", ...at()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('INVALID_REQUEST: unknown method "no-such-method"');
  });

  test("2: usage errors name the flag", async () => {
    const params = await cli(["gateway", "call", "health", "--params", "{oops", ...at()]);
    expect(params.code).toBe(2);
    expect(params.stderr).toContain("--params: not valid JSON");
    const missing = await cli(["gateway", "agent", ...at()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--message");
    const provider = await cli(["gateway", "send", "--to", "x", "--message", "y", "--provider", "pigeon", ...at()]);
    expect(provider.code).toBe(2);
    expect(provider.stderr).toContain("--provider: expected whatsapp or telegram");
    const timeout = await cli(["gateway", "status", "--timeout", "soon", ...at()]);
    expect(timeout.code).toBe(2);
    const unknown = await cli(["gateway", "reboot"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown command");
  });

  test("3: nothing listening — says it could not connect", async () => {
    const res = await cli(["gateway", "status", "--url", "ws://127.0.0.1:1"]);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("could not connect");
    expect(res.stderr).toContain("is the gateway running?");
  });

  test("3: the handshake was refused — says which and why", async () => {
    const res = await cli(["gateway", "status", ...at()], { CLAWDIS_GATEWAY_TOKEN: "nope" });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain("handshake refused");
    expect(res.stderr).toContain("unauthorized");
    expect(res.stderr).not.toContain("nope");
  });

  test("the helpers never spawn a gateway", async () => {
    const dir = tempStateDir();
    const res = await cli(["gateway", "health", "--url", "ws://127.0.0.1:1"], { CLAWDIS_STATE_DIR: dir });
    expect(res.code).toBe(3);
    expect(existsSync(join(dir, "gateway.lock"))).toBe(false);
  });

  test("--help of the root and of every subcommand shows examples", async () => {
    for (const args of [[], ["gateway"], ["health"], ["login"], ["logout"], ["webchat"], ...["health", "status", "send", "agent", "call", "trace", "install", "uninstall"].map((s) => ["gateway", s])]) {
      const res = await cli([...args, "--help"]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain("Examples:");
    }
  });
});

describe("Supervision: install/uninstall write launchd/systemd files (golden)", () => {
  const golden = (name: string) => readFileSync(join(import.meta.dir, "..", "golden", name), "utf8");
  const normalise = (text: string, stateDir: string) => text.split(BINARY).join("{{BIN}}").split(stateDir).join("{{STATE}}");

  test("--systemd --print matches the golden unit", async () => {
    const state = tempStateDir();
    const res = await runCli(["gateway", "install", "--systemd", "--print", "--port", "18789"], { target: "binary", env: { CLAWDIS_STATE_DIR: state } });
    expect(res.code).toBe(0);
    expect(normalise(res.stdout, state)).toBe(golden("clawdis-gateway.service"));
  });

  test("--launchd --print matches the golden plist", async () => {
    const state = tempStateDir();
    const res = await runCli(["gateway", "install", "--launchd", "--print", "--port", "18789"], { target: "binary", env: { CLAWDIS_STATE_DIR: state } });
    expect(res.code).toBe(0);
    expect(normalise(res.stdout, state)).toBe(golden("com.clawdis.gateway.plist"));
  });

  test("install writes the file and a 0600 token file, never the token itself; uninstall removes it", async () => {
    const home = tempStateDir();
    const state = join(home, "state");
    const env = { HOME: home, CLAWDIS_STATE_DIR: state, CLAWDIS_GATEWAY_TOKEN: "very-secret-token" };
    const res = await runCli(["gateway", "install", "--launchd"], { target: "binary", env });
    expect(res.code).toBe(0);
    const plist = join(home, "Library", "LaunchAgents", "com.clawdis.gateway.plist");
    const text = readFileSync(plist, "utf8");
    expect(text).toContain(BINARY);
    expect(text).not.toContain("very-secret-token");
    const envFile = join(state, "gateway.env");
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, "utf8")).toContain("CLAWDIS_GATEWAY_TOKEN=very-secret-token");
    const un = await runCli(["gateway", "uninstall", "--launchd"], { target: "binary", env });
    expect(un.code).toBe(0);
    expect(existsSync(plist)).toBe(false);
  });

  test("install without a supervisor flag is a usage error", async () => {
    const res = await runCli(["gateway", "install"], { target: "binary" });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--launchd");
  });
});
