import { spawnSync } from "node:child_process";
import pkg from "../package.json" with { type: "json" };

/** Version from package.json and the short git commit (`-dirty` with uncommitted changes). */
export function buildInfo(): { version: string; commit: string } {
  const git = (...args: string[]) => spawnSync("git", args, { encoding: "utf8" });
  const rev = git("rev-parse", "--short=12", "HEAD");
  let commit = rev.status === 0 ? rev.stdout.trim() : "unknown";
  if (rev.status === 0 && git("status", "--porcelain", "--untracked-files=no").stdout.trim() !== "") commit += "-dirty";
  return { version: pkg.version, commit };
}
