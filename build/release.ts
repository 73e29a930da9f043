/**
 * npm run release: from this (Linux) machine, one binary per host people run it on,
 *   dist/release/clawdis-darwin-arm64, -darwin-x64, -linux-x64, -linux-arm64, SHA256SUMS
 * each with version and commit baked in. Bun cross-compiles by fetching the target's
 * runtime as the npm package `@oven/bun-<os>-<arch>` from the npm registry (cached in
 * ~/.bun/install/cache); we point it at the registry npm itself uses. macOS binaries get an
 * ad-hoc signature (build/macho-sign.ts), which Apple Silicon requires.
 *
 *   bun build/release.ts [--targets darwin-arm64,linux-x64]
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { bakedDefines, binaryFlags, buildInfo, BYTECODE_ORDER_FILE } from "./build-info.ts";
import { adhocSign, verifySignature } from "./macho-sign.ts";

export const TARGETS = ["darwin-arm64", "darwin-x64", "linux-x64", "linux-arm64"] as const;
export type ReleaseTarget = (typeof TARGETS)[number];

const root = join(import.meta.dir, "..");
export const RELEASE_DIR = join(root, "dist", "release");

/** The registry npm is configured with (Bun reads the same variable names). */
function npmRegistry(): string {
  const fromEnv = process.env.BUN_CONFIG_REGISTRY ?? process.env.npm_config_registry ?? process.env.NPM_CONFIG_REGISTRY;
  if (fromEnv) return fromEnv;
  const res = spawnSync("npm", ["config", "get", "registry"], { encoding: "utf8" });
  return res.status === 0 && res.stdout.trim() ? res.stdout.trim() : "https://registry.npmjs.org/";
}

export function release(targets: readonly ReleaseTarget[] = TARGETS): { dir: string; files: string[] } {
  mkdirSync(RELEASE_DIR, { recursive: true });
  const { version, commit } = buildInfo();
  const registry = npmRegistry();
  const sums: string[] = [];
  for (const target of targets) {
    const name = `clawdis-${target}`;
    const out = join(RELEASE_DIR, name);
    // The same flags as dist/clawdis (build/compile.ts), for another target; its trained order
    // names functions by their source, the same on every target.
    const order = existsSync(join(root, BYTECODE_ORDER_FILE)) ? join(root, BYTECODE_ORDER_FILE) : null;
    const args = ["build", "src/cli.ts", ...binaryFlags(bakedDefines({ version, commit }), order), `--target=bun-${target}`, "--outfile", out];
    const res = spawnSync(process.execPath, args, {
      cwd: root,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, BUN_CONFIG_REGISTRY: registry, npm_config_registry: registry },
    });
    if (res.status !== 0) throw new Error(`bun build --target=bun-${target} failed (exit ${res.status}); the target runtime comes from ${registry}`);
    let bytes: Buffer = readFileSync(out);
    if (target.startsWith("darwin-")) {
      bytes = adhocSign(bytes, "clawdis");
      if (!verifySignature(bytes)?.valid) throw new Error(`${name}: the ad-hoc signature does not verify`);
      writeFileSync(`${out}.tmp`, bytes, { mode: 0o755 });
      renameSync(`${out}.tmp`, out);
    }
    chmodSync(out, 0o755);
    sums.push(`${createHash("sha256").update(bytes).digest("hex")}  ${name}`);
  }
  writeFileSync(join(RELEASE_DIR, "SHA256SUMS"), `${sums.join("\n")}\n`);
  console.log(`released clawdis ${version} (${commit}) to ${RELEASE_DIR}:\n${sums.join("\n")}`);
  return { dir: RELEASE_DIR, files: targets.map((t) => `clawdis-${t}`) };
}

if (import.meta.main) {
  const i = process.argv.indexOf("--targets");
  const wanted = i > 0 ? (process.argv[i + 1] ?? "").split(",") : [...TARGETS];
  const bad = wanted.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (bad.length > 0) {
    console.error(`release: unknown target(s) ${bad.join(", ")}; choose from ${TARGETS.join(", ")}`);
    process.exit(2);
  }
  release(wanted as ReleaseTarget[]);
}
