/** Issue 17 §4: `clawdis gateway logs` through the compiled binary. */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient, helloFrame } from "../helpers/client.ts";
import { cliCommand, runCli, spawnGateway, tempStateDir, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

const rec = (ts: string, level: string, msg: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ ts, level, scope: "gateway", msg, ...extra })}\n`;

function logDir(): { dir: string; log: string } {
  const dir = tempStateDir();
  mkdirSync(join(dir, "logs"), { recursive: true });
  return { dir, log: join(dir, "logs", "gateway.log") };
}

describe("gateway logs: the log file in the daemon's one-line form", () => {
  test("rotated file first, then the current one; --level, --since and --json filter", async () => {
    const { dir, log } = logDir();
    const old = new Date(Date.now() - 3_600_000).toISOString();
    const now = new Date().toISOString();
    writeFileSync(`${log}.1`, rec(old, "info", "from the rotated file") + rec(old, "warn", "old warning"));
    writeFileSync(log, rec(now, "debug", "a debug line", { connId: "c1" }) + rec(now, "error", "fresh error", { code: 1 }));
    const env = { CLAWDIS_STATE_DIR: dir };

    const all = await runCli(["gateway", "logs"], { target, env });
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split("\n")).toEqual([
      `${old} info  [gateway] from the rotated file`,
      `${old} warn  [gateway] old warning`,
      `${now} debug [gateway] a debug line {"connId":"c1"}`,
      `${now} error [gateway] fresh error {"code":1}`,
    ]);
    const warn = await runCli(["gateway", "logs", "--level", "warn"], { target, env });
    expect(warn.stdout).not.toContain("from the rotated file");
    expect(warn.stdout).toContain("old warning");
    const recent = await runCli(["gateway", "logs", "--since", "10m", "--json"], { target, env });
    const lines = recent.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(["a debug line", "fresh error"]);

    const bad = await runCli(["gateway", "logs", "--level", "loud"], { target, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--level: expected one of debug, info, warn, error");
    const badSince = await runCli(["gateway", "logs", "--since", "yesterday-ish"], { target, env });
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain("--since");
  });

  test("no log yet: exit 1 saying where it looked", async () => {
    const dir = tempStateDir();
    const res = await runCli(["gateway", "logs"], { target, env: { CLAWDIS_STATE_DIR: dir } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(join(dir, "logs", "gateway.log"));
  });
});

describe("gateway logs --follow", () => {
  test("a new record of the running gateway shows within a second; rotation is followed", async () => {
    const gw = await spawnGateway({ target, config: { webchat: { enabled: false } } });
    const [cmd, ...pre] = cliCommand(target);
    const follow = spawn(cmd!, [...pre, "gateway", "logs", "--follow"], { env: { ...process.env, CLAWDIS_STATE_DIR: gw.stateDir }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    follow.stdout!.on("data", (d) => (out += d));
    const waitFor = async (text: string, ms: number) => {
      const t0 = Date.now();
      while (!out.includes(text)) {
        if (Date.now() - t0 > ms) throw new Error(`"${text}" not shown within ${ms} ms; got:\n${out}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return Date.now() - t0;
    };
    try {
      await waitFor("listening on ws://", 5_000);
      // A refused hello is an info record: it must show up within a second of being written.
      const c = await TestClient.open(gw.url);
      c.send(helloFrame({ minProtocol: 99, maxProtocol: 99 }));
      await c.closed;
      expect(await waitFor("hello refused", 1_000)).toBeLessThan(1_000);

      // Rotation by hand, as the logger does it: the old file becomes .1, a new one starts.
      const log = join(gw.stateDir, "logs", "gateway.log");
      const { renameSync } = await import("node:fs");
      appendFileSync(log, rec(new Date().toISOString(), "info", "last line before rotation"));
      renameSync(log, `${log}.1`);
      appendFileSync(log, rec(new Date().toISOString(), "info", "first line after rotation"));
      await waitFor("first line after rotation", 1_000);
      expect(out).toContain("last line before rotation");
    } finally {
      follow.kill("SIGTERM");
      await gw.stop();
    }
  });
});
