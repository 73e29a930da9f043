/**
 * npm run build:
 *   dist/clawdis        single-file executable (bun build --compile), version+commit baked in
 *   dist/clawdis.mjs    the same CLI bundled for Node ≥ 20 (package.json bin)
 *   dist/protocol.schema.json, dist/ClawdisProtocol.swift
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bakedDefines, binaryFlags, buildInfo, BYTECODE_ORDER_FILE } from "./build-info.ts";
import { trainBytecodeOrder } from "./bytecode-order.ts";
import { DIST_DIR, renderArtifacts } from "./protocol-gen.ts";
import { writeAssets } from "./webchat-page.ts";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
mkdirSync(dist, { recursive: true });
const { version, commit } = buildInfo();
/** Baked into both builds (src/version.ts reads them). */
const baked = bakedDefines({ version, commit });

// The WebChat page is bundled first: the binary embeds the generated assets module.
if (await writeAssets()) console.log("bundled the WebChat page into src/webchat/assets.generated.ts");

function bun(args: string[]): void {
  const res = spawnSync(process.execPath, ["build", ...args], { cwd: root, stdio: "inherit" });
  if (res.status !== 0) {
    console.error(`bun build ${args.join(" ")} failed`);
    process.exit(res.status ?? 1);
  }
}

/** dist/clawdis.mjs: the CLI for Node, with the natives in place of the `abort-controller` polyfill (build/shims/). */
async function nodeBundle(): Promise<void> {
  const shim = join(import.meta.dir, "shims", "abort-controller.ts");
  const out = await Bun.build({
    entrypoints: [join(root, "src/cli.ts")],
    target: "node",
    format: "esm",
    define: baked,
    outdir: dist,
    naming: "clawdis.mjs",
    plugins: [
      {
        name: "native-abort-controller",
        setup(b) {
          b.onResolve({ filter: /^abort-controller$/ }, () => ({ path: shim }));
        },
      },
    ],
  });
  if (!out.success) {
    for (const m of out.logs) console.error(m);
    process.exit(1);
  }
}

bun(["src/cli.ts", ...binaryFlags(baked), "--outfile", join(dist, "clawdis")]);
// Then again, laid out in the order a start runs the code (build/bytecode-order.ts).
const order = await trainBytecodeOrder(join(dist, "clawdis"), join(root, BYTECODE_ORDER_FILE));
if (order) bun(["src/cli.ts", ...binaryFlags(baked, order), "--outfile", join(dist, "clawdis")]);
await nodeBundle();

// The Node bundle needs its own shebang (the source's names bun).
const mjs = join(dist, "clawdis.mjs");
const body = readFileSync(mjs, "utf8").replace(/^#!.*\n/, "");
writeFileSync(mjs, `#!/usr/bin/env node\n${body}`);
chmodSync(mjs, 0o755);

for (const [name, text] of Object.entries(await renderArtifacts())) writeFileSync(join(DIST_DIR, name), text);
console.log(`built clawdis ${version} (${commit}): dist/clawdis, dist/clawdis.mjs, dist/protocol.schema.json, dist/ClawdisProtocol.swift`);
