import * as v from "valibot";
import type { LoadedConfig } from "../config/load.ts";
import { ConfigSchema, type Config } from "../config/schema.ts";
import type { StatePaths } from "../paths.ts";

export type Status = "ok" | "warn" | "fail";

/** One finding: what was checked, what was found, and how to fix it in words. */
export interface Finding {
  id: string;
  status: Status;
  message: string;
  fix?: string;
}

export interface DoctorContext {
  paths: StatePaths;
  env: Record<string, string | undefined>;
  /** `--fix`: repair what is safe (modes, a stale lock, the WhatsApp backup) and report it here. */
  fix: boolean;
  changed: string[];
  /** Network probes (Telegram getMe, the agent endpoint, the running gateway) give up after this. */
  timeoutMs: number;
}

export const ok = (id: string, message: string): Finding => ({ id, status: "ok", message });
export const warn = (id: string, message: string, fix: string): Finding => ({ id, status: "warn", message, fix });
export const fail = (id: string, message: string, fix: string): Finding => ({ id, status: "fail", message, fix });

/** The config that loaded, or the embedded defaults when it did not (checks that only need a bound or a port). */
export function configOrDefaults(loaded: LoadedConfig | null): Config {
  return loaded?.config ?? v.parse(ConfigSchema, {});
}

/** Say what went wrong without ever repeating a secret that may sit in a URL or message. */
export function scrub(text: string, secrets: (string | undefined)[]): string {
  return secrets.reduce<string>((t, s) => (s ? t.split(s).join("[redacted]") : t), text);
}
