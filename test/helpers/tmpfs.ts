import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A small real tmpfs (a full disk on demand). Mounting needs root (CAP_SYS_ADMIN); when
 * it is refused, `reason` says why and the caller skips with it.
 */
export interface SmallFs {
  dir: string;
  /** Fill the file system to the brim with a filler file; returns its path. */
  fill(): string;
  /** Free what `fill` took. */
  free(): void;
  /** Remount read-only (or back to read-write). */
  readOnly(on: boolean): void;
  unmount(): void;
}

export function mountSmallFs(sizeKiB = 1024): SmallFs | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-fs-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k,mode=0755`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { reason: `cannot mount a tmpfs here (${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}); run as root to test a full disk` };
  }
  const filler = join(dir, "filler");
  return {
    dir,
    fill() {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(4096, 0x61);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
      } finally {
        closeSync(fd);
      }
      // Byte-sized writes fill the last page too.
      const small = openSync(filler, "a");
      try {
        for (;;) writeSync(small, "a");
      } catch {
      } finally {
        closeSync(small);
      }
      return filler;
    },
    free() {
      rmSync(filler, { force: true });
    },
    readOnly(on) {
      const m = spawnSync("mount", ["-o", `remount,${on ? "ro" : "rw"}`, dir], { encoding: "utf8" });
      if (m.status !== 0) throw new Error(`remount failed: ${m.stderr}`);
    },
    unmount() {
      spawnSync("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
