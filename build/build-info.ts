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

/** Baked into every build (src/version.ts reads them), as Bun.build's `define` table. */
export function bakedDefines(info: { version: string; commit: string } = buildInfo()): Record<string, string> {
  return { __CLAWDIS_VERSION__: JSON.stringify(info.version), __CLAWDIS_COMMIT__: JSON.stringify(info.commit) };
}

/**
 * The flags of every single-file Bun binary (dist/clawdis and each release target): --bytecode
 * needs ESM for top-level await and halves start-up; __CLAWDIS_RUNTIME__ makes the Node and Deno
 * adapters dead code in a Bun binary. --splitting puts each lazily imported part (providers,
 * WebChat, doctor, …) in its own chunk inside the binary, loaded when first imported: one
 * 5.6 MB module was read at every start (`--version` 25 → 16 ms, idle RSS −4 MiB; BENCHMARKS.md).
 * No `.env` / `bunfig.toml` autoload from the working directory: Node and Deno never read them,
 * a daemon must not take settings from wherever it was started, and the scan of that directory
 * cost 8–16 ms of every start (more in a big directory).
 */
/** Where build/compile.ts keeps the trained bytecode order (build/bytecode-order.ts) for the release builds. */
export const BYTECODE_ORDER_FILE = "dist/.bytecode-order";

export function binaryFlags(baked: Record<string, string>, bytecodeOrder?: string | null): string[] {
  const defines = { ...baked, __CLAWDIS_RUNTIME__: JSON.stringify("bun") };
  return ["--compile", "--splitting", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "--minify", "--bytecode", "--format=esm", ...(bytecodeOrder ? [`--bytecode-order=${bytecodeOrder}`] : []), ...Object.entries(defines).flatMap(([k, v]) => ["--define", `${k}=${v}`])];
}
