/**
 * Writes dist/protocol.schema.json from the valibot schemas in src/protocol.
 * `--check` exits 1 when the written file differs from what the schemas produce.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { protocolJsonSchema } from "../src/protocol/json-schema.ts";

const root = join(import.meta.dir, "..");
export const SCHEMA_PATH = join(root, "dist", "protocol.schema.json");

export function renderSchema(): string {
  return `${JSON.stringify(protocolJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  const text = renderSchema();
  const outIdx = process.argv.indexOf("--out");
  const SCHEMA_FILE = outIdx > 0 ? process.argv[outIdx + 1]! : SCHEMA_PATH;
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(SCHEMA_FILE, "utf8");
    } catch {}
    if (current !== text) {
      console.error(`${SCHEMA_FILE} is stale or missing: run npm run protocol:gen`);
      process.exit(1);
    }
    console.log(`${SCHEMA_FILE} is up to date`);
  } else {
    mkdirSync(dirname(SCHEMA_FILE), { recursive: true });
    writeFileSync(SCHEMA_FILE, text);
    console.log(`wrote ${SCHEMA_FILE}`);
  }
}
