import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** Directories already made private by this process (a handful: one per state store). */
const tightened = new Set<string>();

/**
 * Make `dir` (and missing parents) and make sure it is 0700: `mkdir`'s mode only
 * applies to a directory it creates, so one left 0755 by an older version or a user's
 * `mkdir` is tightened here. For directories that hold secrets or messages.
 */
export function privateDir(dir: string): void {
  if (tightened.has(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  tightened.add(dir);
}

/** Write a file so that a crash leaves either the old or the new content: temp file, then rename. The directory is made 0700. */
export async function writeAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  privateDir(dirname(path));
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

/** Read a small JSON file, or `fallback` when it is missing or unreadable. */
export function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return fallback;
  }
}
