import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dialHost } from "../../src/core/net.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const BINARY = join(ROOT, "dist", "clawdis");
export const NODE_BUNDLE = join(ROOT, "dist", "clawdis.mjs");
export const DENO = join(ROOT, "node_modules", ".bin", "deno");
/** Node by absolute path, so a test may run the CLI with a PATH that lacks it (e.g. no lsof). */
export const NODE = Bun.which("node") ?? "node";

export type Target = "binary" | "node" | "deno" | "source";

/** Every process a test spawns dies with the test run, even when a test fails midway (see setup.ts). */
const children = new Set<ChildProcess>();
export function killSpawned(): void {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
}
function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.on("exit", () => children.delete(proc));
  return proc;
}

/** The command line that runs the CLI on a target. */
export function cliCommand(target: Target): string[] {
  switch (target) {
    case "binary":
      if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run npm run build first`);
      return [BINARY];
    case "node":
      return [NODE, NODE_BUNDLE];
    case "deno":
      return [DENO, "run", "-A", join(ROOT, "src", "cli.ts")];
    case "source":
      return [process.execPath, join(ROOT, "src", "cli.ts")];
  }
}

export function tempStateDir(config?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-test-"));
  if (config !== undefined) {
    writeFileSync(join(dir, "clawdis.json"), typeof config === "string" ? config : JSON.stringify(config, null, 2));
  }
  return dir;
}

export interface RunningGateway {
  url: string;
  port: number;
  stateDir: string;
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Run the CLI to completion (for commands that exit). */
export async function runCli(
  args: string[],
  opts: { target?: Target; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, ...pre] = cliCommand(opts.target ?? "binary");
  const proc = track(spawn(cmd!, [...pre, ...args], { env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] }));
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (d) => (stdout += d));
  proc.stderr!.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 15_000);
  const code = await new Promise<number | null>((r) => proc.on("exit", (c) => r(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/**
 * Start `clawdis gateway --port 0` on a target with a temp state dir and wait for its
 * "listening on" line. Every gateway a test starts is stopped by the test.
 */
export async function spawnGateway(
  opts: { target?: Target; config?: unknown; args?: string[]; env?: Record<string, string>; stateDir?: string; preload?: string } = {},
): Promise<RunningGateway> {
  const stateDir = opts.stateDir ?? tempStateDir(opts.config);
  // `preload` (Bun's --preload) only for the gateway run from source.
  const [cmd, ...rest] = cliCommand(opts.preload ? "source" : (opts.target ?? "binary"));
  const pre = opts.preload ? ["--preload", opts.preload, ...rest] : rest;
  const given = opts.args ?? ["--port", "0"];
  // Each test gateway's WebChat takes any free port, so gateways never race for 18788.
  const args = [...pre, "gateway", ...given, ...(given.includes("--webchat-port") ? [] : ["--webchat-port", "0"])];
  const proc = track(
    spawn(cmd!, args, {
      env: { ...process.env, CLAWDIS_STATE_DIR: stateDir, CLAWDIS_GATEWAY_TOKEN: "", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let out = "";
  let err = "";
  proc.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((r) => proc.on("exit", (c) => r(c)));
  let host = "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in 20 s:\n${out}\n${err}`)), 20_000);
    proc.stdout!.on("data", (d) => {
      out += d;
      // ws://127.0.0.1:PORT, ws://[::1]:PORT, ws://0.0.0.0:PORT (dialled on loopback)
      const m = /listening on ws:\/\/(\[[^\]]+\]|[^:/\s]+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        host = dialHost(m[1]!.replace(/^\[|\]$/g, ""));
        resolve(Number(m[2]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  return {
    url: `ws://${host}:${port}`,
    port,
    stateDir,
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 8_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
