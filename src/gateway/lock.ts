import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { writeAtomicSync } from "../core/atomic.ts";
import { dialHost } from "../core/net.ts";

export interface LockInfo {
  pid: number;
  startedAt: string;
  port?: number;
  /** The address the gateway is bound to, so local clients (login, logout) dial the right one. */
  bind?: string;
}

export class LockError extends Error {
  constructor(
    message: string,
    readonly holder: LockInfo,
  ) {
    super(message);
    this.name = "LockError";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(path: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(path, "utf8")) as LockInfo;
    return typeof info.pid === "number" ? info : null;
  } catch {
    return null;
  }
}

/** The lock's holder if it is a live process (the gateway running for this state dir), else null. */
export function liveHolder(path: string): LockInfo | null {
  const holder = readLock(path);
  return holder && alive(holder.pid) ? holder : null;
}

/** Where a local client reaches the gateway running for this state dir (its port and bind), or null. */
export function liveHolderUrl(path: string): string | null {
  const lock = liveHolder(path);
  // A lock from before `bind` was recorded: the gateway's default bind.
  return lock?.port ? `ws://${dialHost(lock.bind ?? "127.0.0.1")}:${lock.port}` : null;
}

/**
 * One gateway per state dir: an exclusive lock file (0600) holding pid, start time and,
 * once known, port and bind. A lock left by a dead process is taken over. Returns
 * `release`, and `update` to record the port once listening (atomic rewrite).
 */
export function acquireLock(path: string, info: Omit<LockInfo, "pid" | "startedAt">): { release(): void; update(info: Partial<LockInfo>): void } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const mine: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), ...info };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o600);
      writeSync(fd, JSON.stringify(mine));
      closeSync(fd);
      return {
        release() {
          if (readLock(path)?.pid === process.pid) {
            try {
              unlinkSync(path);
            } catch {}
          }
        },
        update(patch) {
          Object.assign(mine, patch);
          // No fsync: it cost 1-3 ms of every start (BENCHMARKS.md, 6b), and a lock is void after a power loss anyway.
          writeAtomicSync(path, JSON.stringify(mine), 0o600, { durable: false });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = readLock(path);
    if (holder && holder.pid !== process.pid && alive(holder.pid)) {
      throw new LockError(
        `another gateway is running for this state dir (pid ${holder.pid}, started ${holder.startedAt}` +
          `${holder.port !== undefined ? `, port ${holder.port}` : ""}); lock file ${path}. ` +
          `Stop it first, or use a different CLAWDIS_STATE_DIR.`,
        holder,
      );
    }
    // Stale (dead pid or unreadable): take it over.
    try {
      unlinkSync(path);
    } catch {}
  }
  throw new Error(`could not take the lock ${path}: it keeps changing; is another gateway starting?`);
}
