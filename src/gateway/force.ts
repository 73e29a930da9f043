import { createRequire } from "node:module";
import type { Logger } from "../log.ts";

export class ForceError extends Error {}

/** PIDs listening on a TCP port, via lsof. Throws ForceError when lsof is missing. */
export function listenersOnPort(port: number): { pid: number; command: string }[] {
  // node:child_process on first use: the bundler puts this file in a chunk every start loads.
  const { spawnSync } = createRequire(import.meta.url)("node:child_process") as typeof import("node:child_process");
  const res = spawnSync("lsof", ["-nP", `-iTCP:${port}`, "-sTCP:LISTEN", "-F", "pc"], { encoding: "utf8" });
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    throw new ForceError(
      code === "ENOENT"
        ? "--force needs lsof, which is not installed (apt-get install lsof / it ships with macOS); or free the port yourself"
        : `--force: running lsof failed: ${res.error.message}`,
    );
  }
  const out: { pid: number; command: string }[] = [];
  let pid = 0;
  for (const line of (res.stdout ?? "").split("\n")) {
    if (line.startsWith("p")) pid = Number(line.slice(1));
    else if (line.startsWith("c") && pid > 0 && pid !== process.pid) out.push({ pid, command: line.slice(1) });
  }
  return out;
}

/** `--force`: SIGTERM whatever listens on the port, log it, wait until the port is free. */
export async function freePort(port: number, log: Logger, waitMs = 5_000): Promise<void> {
  const victims = listenersOnPort(port);
  for (const v of victims) {
    log.warn(`--force: sending SIGTERM to pid ${v.pid} (${v.command}) listening on port ${port}`);
    try {
      process.kill(v.pid, "SIGTERM");
    } catch (err) {
      log.warn(`--force: could not signal pid ${v.pid}: ${(err as Error).message}`);
    }
  }
  const deadline = Date.now() + waitMs;
  while (victims.length > 0 && Date.now() < deadline) {
    if (listenersOnPort(port).length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (victims.length > 0 && listenersOnPort(port).length > 0) {
    throw new ForceError(`--force: port ${port} is still in use ${waitMs} ms after SIGTERM`);
  }
}
