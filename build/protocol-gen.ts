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
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(SCHEMA_PATH, "utf8");
    } catch {}
    if (current !== text) {
      console.error(`${SCHEMA_PATH} is stale or missing: run npm run protocol:gen`);
      process.exit(1);
    }
    console.log(`${SCHEMA_PATH} is up to date`);
  } else {
    mkdirSync(dirname(SCHEMA_PATH), { recursive: true });
    writeFileSync(SCHEMA_PATH, text);
    console.log(`wrote ${SCHEMA_PATH}`);
  }
}
