import { chmodSync, closeSync, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

/** Directories already made private by this process (a handful: one per state store). */
const tightened = new Set<string>();

/**
 * Make `dir` (and missing parents) and make sure it is 0700: `mkdir`'s mode only applies
 * to a directory it creates, so one left 0755 by an older version or a user's `mkdir` is
 * tightened here. For every directory that holds secrets or message text (credentials,
 * ledger, sessions, outbox, media). Checked once per directory while it exists.
 */
export function privateDir(dir: string): void {
  if (tightened.has(dir) && existsSync(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  tightened.add(dir);
}

/** Read a small JSON file, or `fallback` when it is missing or unreadable. */
export function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return fallback;
  }
}

/** Bun's fs errors may lack `path`: a full disk or a read-only one is then reported with the file it was for. */
function withPath(err: unknown, path: string): unknown {
  if (err && typeof err === "object" && "code" in err && !(err as NodeJS.ErrnoException).path) (err as NodeJS.ErrnoException).path = path;
  return err;
}

let counter = 0;
/** A temp name beside the target (same file system, so the rename is atomic), unique per call. */
function tempPath(path: string): string {
  counter = (counter + 1) % 1_000_000;
  return `${path}.${process.pid}.${counter}.tmp`;
}

/**
 * Replace a file so that a crash leaves the old content or the new one, never a mix:
 * write a temp file with `mode`, fsync it, rename it over the target. The directory is
 * created (0700) when missing; an existing one is left as it is (a service file's
 * system directory, say): stores of secrets or messages call `privateDir` themselves.
 */
export async function writeAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tempPath(path);
  try {
    const fh = await open(tmp, "w", mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw withPath(err, path);
  }
}

/**
 * `writeAtomic` for start-up and CLI paths that cannot await. `durable: false` skips the
 * fsync for a file that means nothing after a power loss (the lock: its process is gone
 * then); the rename still means a reader sees the old content or the new, never a mix.
 */
export function writeAtomicSync(path: string, data: string | Uint8Array, mode = 0o600, opts: { durable?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tempPath(path);
  try {
    const fd = openSync(tmp, "w", mode);
    try {
      writeFileSync(fd, data);
      fchmodSync(fd, mode);
      if (opts.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw withPath(err, path);
  }
}

/** An open file of `size` bytes does not end at a newline: its last line was cut (a crash, a full disk). */
export function endsMidLine(fd: number, size: number): boolean {
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  return readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
}
