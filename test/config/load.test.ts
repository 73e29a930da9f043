import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assertSafeBind, ConfigError, loadConfig } from "../../src/config/load.ts";
import { isLoopback } from "../../src/core/net.ts";
import { createLogger } from "../../src/log.ts";
import { tempStateDir } from "../helpers/gateway.ts";

describe("loadConfig", () => {
  test("precedence: flag > env > file > default", () => {
    const dir = tempStateDir({ gateway: { port: 1000, token: "file", bind: "127.0.0.2" } });
    const file = join(dir, "clawdis.json");
    const fromFile = loadConfig({ defaultFile: file, env: {} }).config.gateway;
    expect([fromFile.port, fromFile.token, fromFile.tickIntervalMs]).toEqual([1000, "file", 30_000]);
    expect(loadConfig({ defaultFile: file, env: { CLAWDIS_GATEWAY_TOKEN: "env" } }).config.gateway.token).toBe("env");
    const flagged = loadConfig({
      defaultFile: file,
      env: { CLAWDIS_GATEWAY_TOKEN: "env" },
      overrides: { token: "flag", port: 2000 },
    }).config.gateway;
    expect([flagged.token, flagged.port, flagged.bind]).toEqual(["flag", 2000, "127.0.0.2"]);
  });

  test("tokenSource says where the token in force comes from; fileTokenOverridden when the file's one is overridden", () => {
    const withToken = join(tempStateDir({ gateway: { token: "file" } }), "clawdis.json");
    const without = join(tempStateDir({}), "clawdis.json");
    const load = (file: string, env: Record<string, string>, token?: string) => {
      const { tokenSource, fileTokenOverridden } = loadConfig({ defaultFile: file, env, ...(token ? { overrides: { token } } : {}) });
      return [tokenSource, fileTokenOverridden];
    };
    expect(load(without, {})).toEqual(["none", undefined]);
    expect(load(withToken, {})).toEqual(["file", undefined]);
    expect(load(without, { CLAWDIS_GATEWAY_TOKEN: "env" })).toEqual(["env", undefined]);
    expect(load(withToken, { CLAWDIS_GATEWAY_TOKEN: "env" })).toEqual(["env", "different"]);
    expect(load(withToken, { CLAWDIS_GATEWAY_TOKEN: "file" })).toEqual(["env", "same"]);
    expect(load(withToken, { CLAWDIS_GATEWAY_TOKEN: "env" }, "flag")).toEqual(["flag", "different"]);
    expect(load(without, {}, "flag")).toEqual(["flag", undefined]);
  });

  test("an empty CLAWDIS_GATEWAY_TOKEN (systemd's Environment=...=) means unset", () => {
    const dir = tempStateDir();
    expect(loadConfig({ defaultFile: join(dir, "clawdis.json"), env: { CLAWDIS_GATEWAY_TOKEN: "" } }).config.gateway.token).toBeUndefined();
  });

  test("a top level that is not an object is named", () => {
    const dir = tempStateDir("[1,2]");
    expect(() => loadConfig({ defaultFile: join(dir, "clawdis.json"), env: {} })).toThrow("expected an object at the top level");
  });

  test("non-loopback binds need a token", () => {
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("localhost")).toBe(true);
    expect(isLoopback("0.0.0.0")).toBe(false);
    expect(isLoopback("192.168.1.2")).toBe(false);
    const dir = tempStateDir({ gateway: { bind: "0.0.0.0" } });
    const { config } = loadConfig({ defaultFile: join(dir, "clawdis.json"), env: {} });
    expect(() => assertSafeBind(config)).toThrow(ConfigError);
    config.gateway.token = "t";
    expect(() => assertSafeBind(config)).not.toThrow();
  });
});

describe("log: secrets never reach a line", () => {
  test("token-named fields and configured secrets are redacted in file and stdout", async () => {
    const file = join(tempStateDir(), "logs", "gateway.log");
    let out = "";
    const log = createLogger({ file, write: (l) => (out += l), secrets: ["hunter2-secret"] });
    log.info("hello from hunter2-secret", { auth: { token: "abc123token" }, apiKey: "sk-1", note: "fine" });
    await log.close();
    const text = readFileSync(file, "utf8") + out;
    expect(text).not.toContain("hunter2-secret");
    expect(text).not.toContain("abc123token");
    expect(text).not.toContain("sk-1");
    expect(text).toContain("fine");
    expect(JSON.parse(readFileSync(file, "utf8").trim()).auth.token).toBe("[redacted]");
  });
});

describe("secret keys are never echoed in validation messages (issue 20 §11)", () => {
  const problems = (config: unknown): string[] => {
    try {
      loadConfig({ defaultFile: join(tempStateDir(config), "clawdis.json"), env: {} });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  test("a token, bot token or key written wrongly: key and types named, value never", () => {
    const got = problems({ gateway: { token: 918273645546, tickIntervalMs: "soon" }, telegram: { botToken: ["123:abc-secret"] }, agent: { openai: { apiKeyEnv: 4242 } } });
    expect(got).toContain("gateway.token: expected string, got a number (value not shown: it is a secret; write it in quotes, as a string)");
    expect(got).toContain("telegram.botToken: expected string, got an array (value not shown: it is a secret; write it in quotes, as a string)");
    expect(got.join("\n")).not.toContain("918273645546");
    expect(got.join("\n")).not.toContain("abc-secret");
    expect(got.join("\n")).not.toContain("4242");
    // Keys that are not secrets still show what they got.
    expect(got).toContain('gateway.tickIntervalMs: expected number, got "soon"');
  });

  test("an empty token says so without a value", () => {
    expect(problems({ gateway: { token: "" } })[0]).toMatch(/^gateway\.token: expected >=1, got a string \(value not shown: it is a secret\)$/);
  });
});
