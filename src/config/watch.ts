import { readFileSync, readlinkSync, realpathSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { configHash } from "./load.ts";

/** Editors save in bursts (truncate, write, rename): changes within this window are one. */
const SETTLE_MS = 150;

/**
 * Call `onEvent` when `name` in `dir` changes (a null name: the platform did not say, so
 * maybe); `onOther` for any other entry of `dir` (Deno names a rename by its old name only).
 */
function watchName(dir: string, name: string, onEvent: () => void, onOther?: () => void): FSWatcher {
  const watcher = watch(dir, { persistent: false }, (_event, changed) => {
    if (changed !== null && changed.toString() !== name) return onOther?.();
    onEvent();
  });
  watcher.on("error", () => {});
  return watcher;
}

/**
 * Where a config path really lives: its resolved path, or for a dangling symlink the path
 * it points at (so the file is noticed when it appears); null when it is not a link.
 */
function linkTarget(file: string): string | null {
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    try {
      return resolve(dirname(file), readlinkSync(file));
    } catch {
      return null;
    }
  }
  return real === resolve(file) ? null : real;
}

/**
 * Call `onChange` when the config file's content changes. The directory is watched, not
 * the file, so an editor's save-by-rename and a file created later are both seen.
 * A symlinked config (dotfile managers) is watched where it lives too: the target's
 * directory, re-resolved whenever the link itself changes.
 * `lastHash()` is the content already handled (loaded or refused): the same bytes twice are one change.
 */
export function watchConfigFile(file: string, lastHash: () => string | null, onChange: () => void): { close(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  // The bytes last handed to onChange: a file refused before its hash was taken (it does not
  // parse) is not re-read and refused again on every touch of the same bytes.
  let fired: string | null = null;
  const check = () => {
    timer = null;
    let hash: string | null;
    try {
      hash = configHash(readFileSync(file));
    } catch {
      hash = null;
    }
    if (hash === null || hash === lastHash() || hash === fired) return;
    fired = hash;
    onChange();
  };
  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, SETTLE_MS);
  };
  let target: { path: string; watcher: FSWatcher | null } | null = null;
  /** Follow the link to where it points now; true when that changed. */
  const retarget = (): boolean => {
    const next = linkTarget(file);
    if (next === (target?.path ?? null)) return false;
    target?.watcher?.close();
    let watcher: FSWatcher | null = null;
    try {
      if (next) watcher = watchName(dirname(next), basename(next), schedule);
    } catch {
      // The target's directory is gone too: the link's own directory still tells when it is fixed.
    }
    target = next ? { path: next, watcher } : null;
    return true;
  };
  const own = watchName(
    dirname(file),
    basename(file),
    () => {
      retarget();
      schedule();
    },
    // A link replaced by rename may be reported under the temporary name only.
    () => {
      if (retarget()) schedule();
    },
  );
  retarget();
  return {
    close() {
      if (timer) clearTimeout(timer);
      own.close();
      target?.watcher?.close();
    },
  };
}
