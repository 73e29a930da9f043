import { copyFileSync, readFileSync, renameSync } from "node:fs";
import { basename } from "node:path";

/** `<name>.corrupt-<UTC time>`: the suffix doctor looks for. */
export const CORRUPT_MARK = ".corrupt-";

/** The `<ts>` of `.corrupt-<ts>`: UTC, to the second (20261207T185012Z). */
export const stamp = (now = new Date()) => now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");

const asidePath = (path: string, now: Date) => `${path}${CORRUPT_MARK}${stamp(now)}`;

/** Keep a copy of a file about to be rewritten without its unreadable lines; returns the warn line. */
export function copyAside(path: string, now = new Date()): string {
  const to = asidePath(path, now);
  try {
    copyFileSync(path, to);
    return `${path}: compacted without its unreadable line(s); the file as it was is kept as ${basename(to)}`;
  } catch (err) {
    return `${path}: compacted without its unreadable line(s) (no copy kept: ${(err as Error).message})`;
  }
}

/**
 * Move an unreadable state file aside instead of deleting or overwriting it: the evidence
 * stays for a person to look at (doctor lists these), and the store starts without it.
 * Returns the warn line to log ("<path>: moved the unreadable file aside to <name>.corrupt-<ts>"),
 * or, when even the rename fails, a line that says the file was left where it is.
 */
export function moveAside(path: string, now = new Date()): string {
  const to = asidePath(path, now);
  try {
    renameSync(path, to);
    return `${path}: moved the unreadable file aside to ${basename(to)}`;
  } catch (err) {
    return `${path}: unreadable, and could not be moved aside (${(err as Error).message}); skipped`;
  }
}

/**
 * Read a small JSON state file: missing → `null`; unreadable (not JSON, or `valid` says it
 * is not ours) → moved aside with a warn line, then `null`.
 */
export function readJsonOrAside<T>(path: string, valid: (v: unknown) => boolean, warn: (note: string) => void): T | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (valid(v)) return v as T;
  } catch {}
  warn(moveAside(path));
  return null;
}
