/** Runbook/issue: configuration precedence and fatal misconfig, through the real CLI. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient, helloFrame } from "../helpers/client.ts";
import { runCli, spawnGateway, tempStateDir, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

async function startFails(config: unknown, args: string[] = ["--port", "0"]) {
  const dir = tempStateDir(config);
  const res = await runCli(["gateway", ...args], { target, env: { CLAWDIS_STATE_DIR: dir, CLAWDIS_GATEWAY_TOKEN: "" } });
  return { ...res, file: join(dir, "clawdis.json") };
}

describe("Config: a bad file is fatal and the message names file, key and expectation", () => {
  test("wrong type", async () => {
    const res = await startFails({ gateway: { tickIntervalMs: "soon" } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(res.file);
    expect(res.stderr).toContain('gateway.tickIntervalMs: expected number, got "soon"');
  });

  test("unknown key (a typo) is named", async () => {
    const res = await startFails({ gateway: { prot: 1 } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("gateway.prot: unknown key");
  });

  test("every problem is listed at once", async () => {
    const res = await startFails({ gateway: { port: -1, maxPayload: "big" }, webchat: { enabled: "yes" } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("gateway.port");
    expect(res.stderr).toContain("gateway.maxPayload");
    expect(res.stderr).toContain("webchat.enabled: expected boolean");
  });

  test("unparseable JSON5 names the file and line", async () => {
    const res = await startFails('{\n  gateway: {\n    port: 18789,,\n  }\n}');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(res.file);
    expect(res.stderr).toContain("line 3");
  });

  test("a --config file that does not exist is an error, not defaults", async () => {
    const res = await runCli(["gateway", "--config", "/nonexistent/clawdis.json"], { target });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("/nonexistent/clawdis.json");
  });

  test("a bad --port is a usage error naming the flag", async () => {
    const res = await runCli(["gateway", "--port", "eighty"], { target, env: { CLAWDIS_STATE_DIR: tempStateDir() } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--port: expected an integer 0–65535, got "eighty"');
  });

  test("binding a non-loopback address without a token is refused", async () => {
    const res = await runCli(["gateway", "--bind", "0.0.0.0", "--port", "0"], {
      target,
      env: { CLAWDIS_STATE_DIR: tempStateDir(), CLAWDIS_GATEWAY_TOKEN: "" },
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("refusing to bind 0.0.0.0 without a token");
  });
});

describe("Config: JSON5, defaults and precedence (flag > env > file > default)", () => {
  test("a missing file means embedded defaults", async () => {
    const g = await spawnGateway({ target });
    const { c, ok } = await TestClient.connect(g.url);
    expect(ok.policy).toEqual({ maxPayload: 512 * 1024, maxBufferedBytes: 1.5 * 1024 * 1024, tickIntervalMs: 30_000 });
    expect(g.stdout()).toContain("using embedded defaults");
    c.close();
    expect(await g.stop()).toBe(0);
  });

  test("JSON5 (comments, unquoted keys, trailing commas) is accepted", async () => {
    const g = await spawnGateway({
      target,
      config: "// clawdis\n{\n  gateway: { tickIntervalMs: 1234, maxPayload: 100000, },\n}\n",
    });
    const { c, ok } = await TestClient.connect(g.url);
    expect(ok.policy.tickIntervalMs).toBe(1234);
    expect(ok.policy.maxPayload).toBe(100_000);
    c.close();
    await g.stop();
  });

  test("--config PATH overrides the state dir's file", async () => {
    const dir = tempStateDir({ gateway: { tickIntervalMs: 1111 } });
    const other = join(tempStateDir(), "other.json");
    writeFileSync(other, JSON.stringify({ gateway: { tickIntervalMs: 2222 } }));
    const g = await spawnGateway({ target, stateDir: dir, args: ["--port", "0", "--config", other] });
    const { c, ok } = await TestClient.connect(g.url);
    expect(ok.policy.tickIntervalMs).toBe(2222);
    c.close();
    await g.stop();
  });

  test("flag --port beats the file's gateway.port", async () => {
    const g = await spawnGateway({ target, config: { gateway: { port: 1 } } });
    expect(g.port).not.toBe(1);
    await g.stop();
  });

  async function tokenAccepted(url: string, token: string): Promise<boolean> {
    const c = await TestClient.open(url);
    c.send(helloFrame({ auth: { token } }));
    const f = await c.next((x) => x.type === "hello-ok" || x.type === "hello-error");
    c.close();
    return f.type === "hello-ok";
  }

  test("CLAWDIS_GATEWAY_TOKEN beats the file's token; --token beats both", async () => {
    const config = { gateway: { token: "from-file" } };
    const g1 = await spawnGateway({ target, config, env: { CLAWDIS_GATEWAY_TOKEN: "from-env" } });
    expect(await tokenAccepted(g1.url, "from-env")).toBe(true);
    expect(await tokenAccepted(g1.url, "from-file")).toBe(false);
    await g1.stop();
    const g2 = await spawnGateway({
      target,
      config,
      env: { CLAWDIS_GATEWAY_TOKEN: "from-env" },
      args: ["--port", "0", "--token", "from-flag"],
    });
    expect(await tokenAccepted(g2.url, "from-flag")).toBe(true);
    expect(await tokenAccepted(g2.url, "from-env")).toBe(false);
    await g2.stop();
  });
});
