import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The service's environment file (`clawdis install` writes it; this shell may not have loaded it). */
export function serviceEnvFile(stateDir: string): string {
  return join(stateDir, "gateway.env");
}

/** The env file sets a non-empty CLAWDIS_GATEWAY_TOKEN (its value is never kept or shown). */
export function envFileSetsToken(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return false;
  }
  return text.split("\n").some((line) => {
    const m = /^\s*(?:export\s+)?CLAWDIS_GATEWAY_TOKEN\s*=\s*(.*?)\s*$/.exec(line);
    return m !== null && m[1]!.replace(/^(["'])(.*)\1$/, "$2") !== "";
  });
}
