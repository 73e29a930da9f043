import { readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { configHash } from "./load.ts";

/** Editors save in bursts (truncate, write, rename): changes within this window are one. */
const SETTLE_MS = 150;

/**
 * Call `onChange` when the config file's content changes. The directory is watched, not
 * the file, so an editor's save-by-rename and a file created later are both seen.
 * `lastHash()` is the content already handled (loaded or refused): the same bytes twice are one change.
 */
export function watchConfigFile(file: string, lastHash: () => string | null, onChange: () => void): { close(): void } {
  const name = basename(file);
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
  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
    if (changed !== null && changed.toString() !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, SETTLE_MS);
  });
  watcher.on("error", () => {});
  return {
    close() {
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
