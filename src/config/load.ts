import { createHash } from "node:crypto";
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import JSON5 from "json5";
import * as v from "valibot";
import { isLoopback } from "../core/net.ts";
import { describeIssue } from "../protocol/index.ts";
import { ConfigSchema, type Config } from "./schema.ts";

/** A configuration problem: fatal at start-up, printed as is. */
export class ConfigError extends Error {
  /** Every problem found, one line each (a reload answers with them). */
  readonly problems: string[];
  constructor(message: string, problems?: string[]) {
    super(message);
    this.name = "ConfigError";
    this.problems = problems ?? [message];
  }
}

/** Values from the command line; each wins over env, file and defaults. */
export interface ConfigOverrides {
  port?: number;
  bind?: string;
  token?: string;
}

/** Where the gateway token in force comes from: `--token` > `CLAWDIS_GATEWAY_TOKEN` > the file. */
export type TokenSource = "flag" | "env" | "file" | "none";

export interface LoadedConfig {
  config: Config;
  /** The file that was read, or null when none existed (defaults). */
  file: string | null;
  /** sha256 (hex) of the file's bytes, or null without a file. */
  hash: string | null;
  /** Where `config.gateway.token` came from (absent: a config built in code). */
  tokenSource?: TokenSource;
  /**
   * The file sets gateway.token too, but a flag or the environment wins over it: with the
   * same value, or a different one (then editing the file does not rotate the token).
   */
  fileTokenOverridden?: "same" | "different";
}

/** Keys whose values are secrets (gateway.token, telegram.botToken, an API key): a message names them, never their value. */
const SECRET_KEY = /token|key|secret|password/i;

/**
 * Valibot issues as lines like `gateway.tickIntervalMs: expected number, got "soon"` (the protocol's one formatter).
 * A secret key's line says the key, the expected type and the type it got, never the value:
 * the value may be a real token written wrongly (as a number), and this text reaches the log and health.
 */
export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((issue) => {
    const r = describeIssue(issue, "(root)");
    if (r.unknownKey) return `${r.text} (remove it or check its spelling)`;
    const key = r.field.split(".").pop() ?? "";
    if (!SECRET_KEY.test(key)) return r.text;
    const got = issue.input === null ? "null" : Array.isArray(issue.input) ? "an array" : `a ${typeof issue.input}`;
    const hint = typeof issue.input === "string" ? "" : `; write it in quotes, as a string`;
    return `${r.field}: expected ${r.expected ?? "valid value"}, got ${got} (value not shown: it is a secret${hint})`;
  });
}

/** sha256 (hex) of a config file's bytes: `LoadedConfig.hash`, and what the file watcher compares. */
export function configHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function readConfigFile(file: string, mustExist: boolean): { raw: unknown; hash: string } | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !mustExist) return undefined;
    throw new ConfigError(`config ${file}: cannot read it (${code ?? String(err)})`);
  }
  const hash = configHash(bytes);
  try {
    return { raw: JSON5.parse(bytes.toString("utf8")), hash };
  } catch (err) {
    const e = err as { lineNumber?: number; columnNumber?: number; message: string };
    const where = e.lineNumber ? ` at line ${e.lineNumber}, column ${e.columnNumber}` : "";
    throw new ConfigError(`config ${file}: not valid JSON5${where}: ${e.message.replace(/^JSON5: /, "")}`);
  }
}

/**
 * Load the config with precedence flag > environment > file > default.
 * `explicitFile` (from `--config`) must exist; the state dir's file may be absent.
 */
export function loadConfig(opts: {
  defaultFile: string;
  explicitFile?: string;
  env?: Record<string, string | undefined>;
  overrides?: ConfigOverrides;
}): LoadedConfig {
  const env = opts.env ?? process.env;
  const file = opts.explicitFile ?? opts.defaultFile;
  const read = readConfigFile(file, opts.explicitFile !== undefined);
  const raw = read?.raw;
  if (read !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw new ConfigError(`config ${file}: expected an object at the top level, got ${Array.isArray(raw) ? "an array" : typeof raw}`);
  }
  const parsed = v.safeParse(ConfigSchema, raw ?? {}, { abortEarly: false });
  if (!parsed.success) {
    const problems = describeIssues(parsed.issues);
    throw new ConfigError(`config ${file} is invalid:\n  ${problems.join("\n  ")}`, problems);
  }
  const config = parsed.output;
  const fileToken = config.gateway.token;
  let tokenSource: TokenSource = fileToken ? "file" : "none";
  const envToken = env.CLAWDIS_GATEWAY_TOKEN;
  if (envToken) {
    config.gateway.token = envToken;
    tokenSource = "env";
  }
  if (env.TELEGRAM_BOT_TOKEN) config.telegram.botToken = env.TELEGRAM_BOT_TOKEN;
  const o = opts.overrides ?? {};
  if (o.port !== undefined) config.gateway.port = o.port;
  if (o.bind !== undefined) config.gateway.bind = o.bind;
  if (o.token !== undefined) {
    config.gateway.token = o.token;
    tokenSource = "flag";
  }
  const overridden = fileToken !== undefined && tokenSource !== "file" ? (fileToken === config.gateway.token ? "same" : "different") : undefined;
  return {
    config,
    file: read === undefined ? null : file,
    hash: read?.hash ?? null,
    tokenSource,
    ...(overridden ? { fileTokenOverridden: overridden } : {}),
  };
}

/**
 * Why a reload refuses when the file the gateway runs on is gone: the running config (and
 * its token) stays. Says whether the path is a symlink whose target is missing.
 */
export function missingConfigMessage(file: string): string {
  let what = "is missing (moved or deleted)";
  try {
    if (lstatSync(file).isSymbolicLink()) what = `is a symlink to ${readlinkSync(file)}, which is missing`;
  } catch {}
  return (
    `config ${file} ${what}: the running config stays (a reload never falls back to the embedded defaults, ` +
    `which would drop gateway.token). Put the file back and reload again.`
  );
}

/** What overrides the file's gateway.token, in words an operator can act on. */
export function tokenSourceName(source: TokenSource): string {
  return { flag: "--token on the command line", env: "CLAWDIS_GATEWAY_TOKEN in the environment", file: "gateway.token in the config file", none: "no token" }[source];
}


/** Checks that need the whole merged config. */
export function assertSafeBind(config: Config): void {
  const { bind, token } = config.gateway;
  if (!isLoopback(bind) && !token) {
    throw new ConfigError(
      `refusing to bind ${bind} without a token: anyone who can reach it could drive your accounts. ` +
        `Set gateway.token (or CLAWDIS_GATEWAY_TOKEN, or --token), or bind 127.0.0.1 and use an SSH tunnel.`,
    );
  }
}
