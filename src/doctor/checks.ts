import { existsSync, readFileSync, statfsSync, statSync, unlinkSync } from "node:fs";
import { envFileSetsToken, serviceEnvFile } from "./env-file.ts";
import { join } from "node:path";
import { assertSafeBind, ConfigError, loadConfig, type LoadedConfig } from "../config/load.ts";
import { writeAtomicSync } from "../core/atomic.ts";
import { isLoopback } from "../core/net.ts";
import { liveHolder } from "../gateway/lock.ts";
import { configOrDefaults, fail, ok, warn, type DoctorContext, type Finding } from "./finding.ts";
import { checkSelfChat } from "./self-chat.ts";
import { checkAgentDoors } from "./agent-doors.ts";
import { checkModes } from "./modes.ts";
import { checkAgent, checkPort, checkTelegram } from "./network.ts";
import { checkTelegramGroups } from "./telegram-groups.ts";
import { checkCorrupt } from "./corrupt.ts";

export type { DoctorContext, Finding, Status } from "./finding.ts";
export { checkModes };

export function checkConfig(ctx: DoctorContext): { finding: Finding; loaded: LoadedConfig | null } {
  try {
    const loaded = loadConfig({ defaultFile: ctx.paths.config, env: ctx.env });
    return { finding: ok("config", loaded.file ? `${loaded.file} parses and validates` : "no config file: embedded defaults"), loaded };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      finding: fail("config", `${ctx.paths.config}: ${err.problems.join("; ")}`, `edit ${ctx.paths.config}: ${err.problems.length} problem(s) listed; the gateway refuses to start until they are fixed`),
      loaded: null,
    };
  }
}


export function checkLock(ctx: DoctorContext): Finding {
  const path = ctx.paths.lock;
  if (!existsSync(path)) return ok("lock", "no lock: no gateway is running for this state dir");
  const holder = liveHolder(path);
  if (holder) return ok("lock", `held by the running gateway, pid ${holder.pid} (started ${holder.startedAt})`);
  if (ctx.fix) {
    unlinkSync(path);
    ctx.changed.push(`removed stale lock ${path}`);
    return ok("lock", "stale lock removed");
  }
  let pid = "unreadable";
  try {
    pid = String(JSON.parse(readFileSync(path, "utf8")).pid);
  } catch {}
  return warn("lock", `stale lock ${path}: pid ${pid} is not running`, "run `clawdis doctor --fix` to remove it (the gateway also takes it over at start)");
}

export function checkBind(loaded: LoadedConfig | null): Finding {
  if (!loaded) return warn("bind", "not checked: the config does not load", "fix the config first");
  try {
    assertSafeBind(loaded.config);
  } catch {
    return fail("bind", `gateway.bind ${loaded.config.gateway.bind} is reachable from other hosts and no token is set`, "set gateway.token (or CLAWDIS_GATEWAY_TOKEN), or bind 127.0.0.1 and use an SSH tunnel");
  }
  const { bind } = loaded.config.gateway;
  return ok("bind", isLoopback(bind) ? `bound to loopback (${bind})` : `bound to ${bind}, with a token`);
}


/**
 * A token in both the config file and the environment: the environment wins, so editing the
 * file (the obvious way to rotate) changes nothing. The service's environment is
 * <state>/gateway.env, which this shell may not have loaded: it is read too.
 */
export function checkTokenSource(ctx: DoctorContext, loaded: LoadedConfig | null): Finding {
  if (!loaded) return warn("token", "not checked: the config does not load", "fix the config first");
  const envFile = serviceEnvFile(ctx.paths.stateDir);
  const inFile = loaded.tokenSource === "file" || loaded.fileTokenOverridden !== undefined;
  const inEnv = ctx.env.CLAWDIS_GATEWAY_TOKEN ? "CLAWDIS_GATEWAY_TOKEN in this environment" : envFileSetsToken(envFile) ? `CLAWDIS_GATEWAY_TOKEN in ${envFile}` : null;
  const file = loaded.file ?? ctx.paths.config;
  if (inFile && inEnv) {
    const same = loaded.fileTokenOverridden === "same" ? " (the same value today)" : "";
    return warn(
      "token",
      `gateway.token is set both in ${file} and by ${inEnv}${same}: the environment wins, so editing the file does not rotate the token`,
      `keep the token in one place: remove gateway.token from ${file} and rotate by editing ${envFile} then restarting the gateway, ` +
        `or remove CLAWDIS_GATEWAY_TOKEN and rotate in the file (a reload applies it at once)`,
    );
  }
  if (inEnv) return ok("token", `gateway token from ${inEnv}; rotate it there, then restart the gateway`);
  if (inFile) return ok("token", `gateway token from ${file}; edit it there (a reload applies it at once)`);
  return ok("token", "no gateway token set (loopback only, no sign-in)");
}

export function checkWhatsApp(ctx: DoctorContext): Finding {
  const dir = ctx.paths.whatsappCreds;
  const creds = join(dir, "creds.json");
  const backup = join(dir, "creds.json.bak");
  if (!existsSync(creds)) {
    return existsSync(backup)
      ? warn("whatsapp", "creds.json is missing but its backup exists (the gateway restores it at start)", "start the gateway, or run `clawdis login` again")
      : ok("whatsapp", "not linked (run `clawdis login` to link WhatsApp)");
  }
  let raw: Buffer;
  try {
    raw = readFileSync(creds);
    JSON.parse(raw.toString("utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail("whatsapp", `${creds} is ${code ? `unreadable (${code})` : "not valid JSON"}`, existsSync(backup) ? "the gateway restores it from creds.json.bak at start; or run `clawdis login`" : "run `clawdis logout` then `clawdis login`");
  }
  if (existsSync(backup)) return ok("whatsapp", "credentials present, valid JSON, backup present");
  if (ctx.fix) {
    writeAtomicSync(backup, raw, 0o600);
    ctx.changed.push(`copied ${creds} to ${backup}`);
    return ok("whatsapp", "credentials present, valid JSON, backup created");
  }
  return warn("whatsapp", "credentials present and valid, but creds.json.bak is missing", "run `clawdis doctor --fix` to copy creds.json to its backup");
}

export function checkDisk(ctx: DoctorContext): Finding {
  const dir = existsSync(ctx.paths.stateDir) ? ctx.paths.stateDir : join(ctx.paths.stateDir, "..");
  try {
    const s = statfsSync(dir);
    const free = s.bavail * s.bsize;
    const mib = Math.round(free / 1024 / 1024);
    if (free < 100 * 1024 * 1024) return fail("disk", `${mib} MiB free for ${dir}`, "free disk space: the ledger, sessions and logs need room to write");
    if (free < 1024 * 1024 * 1024) return warn("disk", `${mib} MiB free for ${dir}`, "free some disk space soon");
    return ok("disk", `${(free / 1024 ** 3).toFixed(1)} GiB free for ${dir}`);
  } catch (err) {
    return warn("disk", `free space unknown: ${(err as Error).message}`, "check with df");
  }
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Files grow up to a bound and then rotate: far past it means rotation is not happening. */
export function checkSizes(ctx: DoctorContext, loaded: LoadedConfig | null): Finding {
  const cfg = configOrDefaults(loaded);
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const items = [
    { name: "ledger", used: size(join(ctx.paths.ledger, "ledger.jsonl")), bound: cfg.ledger.maxFileBytes },
    { name: "log", used: size(ctx.paths.gatewayLog), bound: 10 * 1024 * 1024 },
  ];
  const over = items.filter((i) => i.used > 2 * i.bound);
  const summary = items.map((i) => `${i.name} ${mib(i.used)} of ${mib(i.bound)}`).join(", ");
  const journal = `journal in memory (≤ ${cfg.gateway.journal.maxEvents} events, ${mib(cfg.gateway.journal.maxBytes)})`;
  if (over.length > 0) return warn("sizes", `${summary}; ${over.map((i) => i.name).join(", ")} far past the bound`, "restart the gateway so it rotates; check the log for write errors");
  return ok("sizes", `${summary}; ${journal}`);
}

/** Every check, in the order they are printed. Never needs the gateway running. */
export async function runChecks(ctx: DoctorContext): Promise<Finding[]> {
  const { finding, loaded } = checkConfig(ctx);
  return [
    finding,
    checkModes(ctx, loaded),
    checkLock(ctx),
    await checkPort(ctx, loaded),
    checkBind(loaded),
    checkTokenSource(ctx, loaded),
    checkWhatsApp(ctx),
    checkSelfChat(loaded),
    await checkTelegram(ctx, loaded),
    await checkTelegramGroups(ctx, loaded),
    await checkAgent(ctx, loaded),
    checkAgentDoors(loaded, envFileSetsToken(serviceEnvFile(ctx.paths.stateDir))),
    checkDisk(ctx),
    checkSizes(ctx, loaded),
    checkCorrupt(ctx),
  ];
}
