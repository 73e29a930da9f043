import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDiskFull } from "../store/disk-full.ts";
import { CliExit, Exit } from "./errors.ts";

/** Why a directory cannot be written, in words, for the errors that are the operator's to fix. */
const UNWRITABLE: Record<string, string> = {
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
};

/**
 * Before anything opens a file in it: the state dir and its `logs/` can be written. A
 * read-only mount or a dir the service user may not write is a configuration error (one
 * line, exit 2, so launchd/systemd show the cause), not a stack trace from whichever
 * store happened to write first. A disk already full is said as such (exit 1); one that
 * fills later is reported while the gateway runs (health.disk).
 */
export function assertStateDirWritable(stateDir: string, logDir: string): void {
  for (const dir of [stateDir, logDir]) {
    const probe = join(dir, `.write-check-${process.pid}`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // One byte: an empty file is created even on a full disk.
      writeFileSync(probe, "\n");
      rmSync(probe, { force: true });
    } catch (err) {
      try {
        rmSync(probe, { force: true });
      } catch {}
      const code = (err as NodeJS.ErrnoException).code ?? "";
      // Nothing can start on a full disk (the lock is written first): said as what it is.
      if (isDiskFull(err)) throw new CliExit(Exit.FAILURE, `the state dir is full (${code} at ${dir}): free space there, then start again`);
      const why = UNWRITABLE[code];
      if (!why) continue;
      throw new CliExit(Exit.USAGE, `cannot write the state dir ${dir} (${why}): mount it writable or set CLAWDIS_STATE_DIR`);
    }
  }
}
