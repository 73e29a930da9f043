/** What the build ships: declared dependencies only, and a Bun binary without the Node adapter. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, NODE_BUNDLE, ROOT } from "../helpers/gateway.ts";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Packages a file loads at run time: static and dynamic imports, not `import type`. */
function importedPackages(text: string): string[] {
  const specs = [
    ...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+"([^"]+)"/gm),
    ...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((m) => m[1]!);
  return specs
    .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && s !== "bun" && !s.startsWith("bun:"))
    .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!));
}

describe("Dependencies: every package src/ loads is declared, pinned", () => {
  test("no undeclared import (e.g. `ws` for Node 20's client WebSocket)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const used = new Map<string, string>();
    for (const file of sources(join(ROOT, "src"))) for (const p of importedPackages(readFileSync(file, "utf8"))) used.set(p, file);
    expect(used.get("ws")).toBeDefined();
    const undeclared = [...used].filter(([p]) => !(p in pkg.dependencies)).map(([p, file]) => `${p} (${file})`);
    expect(undeclared).toEqual([]);
    for (const p of used.keys()) expect({ p, range: pkg.dependencies[p] }).toEqual({ p, range: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });
});

describe("Build-time runtime switch: the Bun binary carries no Node adapter", () => {
  // Names from src/runtime/node.ts and @hono/node-ws; minifiers keep property names.
  const nodeOnly = ["createNodeAdapter", "injectWebSocket"];

  test("dist/clawdis has none of the Node adapter's code; dist/clawdis.mjs keeps it", () => {
    const binary = readFileSync(BINARY);
    const bundle = readFileSync(NODE_BUNDLE, "utf8");
    for (const name of nodeOnly) {
      expect({ name, inBinary: binary.includes(name) }).toEqual({ name, inBinary: false });
      expect({ name, inNodeBundle: bundle.includes(name) }).toEqual({ name, inNodeBundle: true });
    }
  });
});

describe("The binary's bytecode is laid out in the order a start runs it", () => {
  test("npm run build trained an order (a gateway start with a client) and kept it for the release builds", () => {
    const order = readFileSync(join(ROOT, "dist", ".bytecode-order"), "utf8").split("\n");
    expect(order[0]).toBe("v2");
    // One line per function a start ran: hundreds, each "F <hash>".
    const fns = order.filter((l) => /^F [0-9a-f]{16}$/.test(l));
    expect(fns.length).toBeGreaterThan(500);
  });
});
