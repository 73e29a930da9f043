import { lstatSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { CORRUPT_MARK } from "../store/corrupt.ts";
import { ok, warn, type DoctorContext, type Finding } from "./finding.ts";

/** Files listed by name; more are counted. */
const SHOWN = 10;

/**
 * Unreadable state files the gateway moved aside at start (`<name>.corrupt-<ts>`): kept
 * as evidence, never deleted by the gateway. Found under the state dir (a few levels
 * deep, no symlinks followed).
 */
export function checkCorrupt(ctx: DoctorContext): Finding {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (name.includes(CORRUPT_MARK)) found.push(path);
      else if (depth < 4) {
        try {
          if (lstatSync(path).isDirectory()) walk(path, depth + 1);
        } catch {}
      }
    }
  };
  walk(ctx.paths.stateDir, 0);
  if (found.length === 0) return ok("corrupt", "no unreadable state files set aside");
  const shown = found.slice(0, SHOWN).map((p) => relative(ctx.paths.stateDir, p));
  const more = found.length > SHOWN ? ` and ${found.length - SHOWN} more` : "";
  return warn(
    "corrupt",
    `${found.length} unreadable state file(s) moved aside at start: ${shown.join(", ")}${more}`,
    `look at them (the gateway skipped them and logged a warning when it did); delete them from ${ctx.paths.stateDir} once you no longer need them`,
  );
}
