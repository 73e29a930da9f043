import { accessSync, constants, copyFileSync, chmodSync, existsSync, lstatSync, readdirSync, readFileSync, renameSync, statfsSync, statSync, unlinkSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, isAbsolute, join } from "node:path";
import { assertSafeBind, ConfigError, isLoopback, loadConfig, type LoadedConfig } from "../config/load.ts";
import { backendName } from "../agent/backends/index.ts";
import { listenersOnPort } from "../gateway/force.ts";
import { liveHolder } from "../gateway/lock.ts";
import type { StatePaths } from "../paths.ts";
import { sessionKeyPath } from "../webchat/session-key.ts";

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

const ok = (id: string, message: string): Finding => ({ id, status: "ok", message });
const warn = (id: string, message: string, fix: string): Finding => ({ id, status: "warn", message, fix });
const fail = (id: string, message: string, fix: string): Finding => ({ id, status: "fail", message, fix });

/** Say what went wrong without ever repeating a secret that may sit in a URL or message. */
function scrub(text: string, secrets: (string | undefined)[]): string {
  return secrets.reduce<string>((t, s) => (s ? t.split(s).join("[redacted]") : t), text);
}

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

/** Every path that holds state or secrets, with the mode it should have. */
function sensitivePaths(p: StatePaths): { path: string; dir: boolean }[] {
  const out: { path: string; dir: boolean }[] = [];
  const walk = (path: string, depth: number) => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) return;
    out.push({ path, dir: st.isDirectory() });
    if (st.isDirectory() && depth < 4) for (const name of readdirSync(path)) walk(join(path, name), depth + 1);
  };
  const state = p.stateDir;
  if (existsSync(state)) out.push({ path: state, dir: true });
  // Message bodies wait in outbox/ (outgoing) and inbound/ (kept inbound); media/ holds inbound media.
  const dirs = [join(state, "credentials"), p.logDir, p.ledger, p.pairing, p.sessions, join(state, "telegram"), p.outbox, p.inboundPending, join(state, "media")];
  for (const sub of dirs) walk(sub, 0);
  // webchat-session.key signs WebChat's session cookies: whoever reads it (and knows the token) can mint one.
  for (const file of [p.lock, p.idempotency, join(state, "gateway.env"), sessionKeyPath(state)]) if (existsSync(file)) out.push({ path: file, dir: false });
  return out;
}

export function checkModes(ctx: DoctorContext, loaded: LoadedConfig | null): Finding {
  if (process.platform === "win32") return ok("modes", "file modes are not checked on Windows");
  const bad: string[] = [];
  const paths = sensitivePaths(ctx.paths);
  // The config file matters only when it holds a secret (a token written into it).
  const c = loaded?.config;
  if (loaded?.file && (c?.gateway.token || c?.telegram.botToken)) paths.push({ path: loaded.file, dir: false });
  for (const { path, dir } of paths) {
    const want = dir ? 0o700 : 0o600;
    const mode = statSync(path).mode & 0o777;
    // Group/other bits are what matter; a stricter mode (e.g. 0400) is fine.
    if ((mode & 0o077) === 0) continue;
    if (ctx.fix) {
      chmodSync(path, want);
      ctx.changed.push(`chmod ${want.toString(8)} ${path} (was ${mode.toString(8).padStart(4, "0")})`);
    } else {
      bad.push(`${path} is ${mode.toString(8).padStart(4, "0")}`);
    }
  }
  if (bad.length === 0) {
    return ok("modes", "state dir, credentials, logs, ledger, pairing, outbox, inbound, media and the WebChat session key are private (0700 dirs, 0600 files)");
  }
  return fail("modes", `readable by others: ${bad.join(", ")}`, "run `clawdis doctor --fix` (or chmod 700 the dirs and 600 the files)");
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

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function checkPort(ctx: DoctorContext, loaded: LoadedConfig | null): Promise<Finding> {
  const { bind, port, token } = (loaded?.config ?? loadConfig({ defaultFile: "/nonexistent", env: {} }).config).gateway;
  if (port === 0) return ok("port", "gateway.port is 0: any free port is taken at start");
  if (await portFree(bind, port)) return ok("port", `${bind}:${port} is free`);
  const holder = liveHolder(ctx.paths.lock);
  if (holder && holder.port === port) {
    const about = await askGateway(`ws://${bind.includes(":") ? `[${bind}]` : bind}:${port}`, token, ctx.timeoutMs);
    return about.ok
      ? ok("port", `${bind}:${port} is held by this state dir's gateway (pid ${holder.pid}): ${about.text}`)
      : warn("port", `${bind}:${port} is held by this state dir's gateway (pid ${holder.pid}) but it did not answer: ${about.text}`, "check `clawdis gateway logs`; restart it if it stays silent");
  }
  let who = "an unknown process (lsof not installed)";
  try {
    const listeners = listenersOnPort(port);
    if (listeners.length > 0) who = listeners.map((l) => `pid ${l.pid} (${l.command})`).join(", ");
  } catch {}
  return fail("port", `${bind}:${port} is in use by ${who}`, "stop that process, set another gateway.port, or start with `clawdis gateway --force`");
}

/** Version, uptime and health of the running gateway, over its own protocol. */
async function askGateway(url: string, token: string | undefined, timeoutMs: number): Promise<{ ok: boolean; text: string }> {
  const { GatewayClient } = await import("../client/index.ts");
  const { clientWebSocket } = await import("../runtime/websocket.ts");
  const client = new GatewayClient({
    url,
    ...(token ? { token } : {}),
    WebSocket: await clientWebSocket(),
    reconnect: false,
    connectTimeoutMs: timeoutMs,
    timeoutMs,
    client: { name: "clawdis-doctor", mode: "cli" },
  });
  try {
    await client.connect();
    const s = await client.request("status");
    const h = await client.request("health");
    return { ok: true, text: `clawdis ${s.version} (${s.commit}), up ${Math.round(s.uptimeMs / 1000)} s, health ${h.ok ? "ok" : "not ok"}, WhatsApp ${h.web.linked ? "linked" : "not linked"}` };
  } catch (err) {
    return { ok: false, text: scrub((err as Error).message, [token]) };
  } finally {
    client.close();
  }
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

/** The env file sets a non-empty CLAWDIS_GATEWAY_TOKEN (its value is never kept or shown). */
function envFileSetsToken(file: string): boolean {
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

/**
 * A token in both the config file and the environment: the environment wins, so editing the
 * file (the obvious way to rotate) changes nothing. The service's environment is
 * <state>/gateway.env, which this shell may not have loaded: it is read too.
 */
export function checkTokenSource(ctx: DoctorContext, loaded: LoadedConfig | null): Finding {
  if (!loaded) return warn("token", "not checked: the config does not load", "fix the config first");
  const envFile = join(ctx.paths.stateDir, "gateway.env");
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
  try {
    JSON.parse(readFileSync(creds, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail("whatsapp", `${creds} is ${code ? `unreadable (${code})` : "not valid JSON"}`, existsSync(backup) ? "the gateway restores it from creds.json.bak at start; or run `clawdis login`" : "run `clawdis logout` then `clawdis login`");
  }
  if (existsSync(backup)) return ok("whatsapp", "credentials present, valid JSON, backup present");
  if (ctx.fix) {
    const tmp = `${backup}.${process.pid}.tmp`;
    copyFileSync(creds, tmp);
    chmodSync(tmp, 0o600);
    renameSync(tmp, backup);
    ctx.changed.push(`copied ${creds} to ${backup}`);
    return ok("whatsapp", "credentials present, valid JSON, backup created");
  }
  return warn("whatsapp", "credentials present and valid, but creds.json.bak is missing", "run `clawdis doctor --fix` to copy creds.json to its backup");
}

async function probe(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown } | { error: string }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { error: e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message) };
  }
}

export async function checkTelegram(ctx: DoctorContext, loaded: LoadedConfig | null): Promise<Finding> {
  const tg = loaded?.config.telegram;
  const token = tg?.botToken;
  if (!token) return ok("telegram", "not configured");
  const root = tg.apiRoot ?? "https://api.telegram.org";
  const r = await probe(`${root.replace(/\/$/, "")}/bot${token}/getMe`, {}, ctx.timeoutMs);
  if ("error" in r) return warn("telegram", `could not reach the Bot API at ${root}: ${scrub(r.error, [token])}`, "check the network (or telegram.apiRoot); the token was not verified");
  const body = r.body as { ok?: boolean; result?: { username?: string } };
  if (r.status === 200 && body?.ok) return ok("telegram", `token accepted (getMe: @${body.result?.username ?? "?"})`);
  if (r.status === 401 || r.status === 404) return fail("telegram", `the bot token was rejected (getMe answered ${r.status})`, "get the token again from @BotFather (/token) and set telegram.botToken or TELEGRAM_BOT_TOKEN");
  return warn("telegram", `getMe answered ${r.status}`, "try again later; check telegram.apiRoot");
}

function onPath(cmd: string, env: Record<string, string | undefined>): string | null {
  const candidates = isAbsolute(cmd) || cmd.includes("/") ? [cmd] : (env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) {
        accessSync(c, constants.X_OK);
        return c;
      }
    } catch {}
  }
  return null;
}

export async function checkAgent(ctx: DoctorContext, loaded: LoadedConfig | null): Promise<Finding> {
  if (!loaded) return warn("agent", "not checked: the config does not load", "fix the config first");
  const cfg = loaded.config;
  const name = backendName(cfg, ctx.env);
  if (name === "echo") return ok("agent", "echo backend (replies with the message; set agent.backend or OPENAI_API_KEY for a real assistant)");
  if (name === "command") {
    const argv0 = cfg.agent.command?.[0];
    if (!argv0) return fail("agent", 'agent.backend is "command" but agent.command is not set', 'set agent.command, e.g. ["claude", "-p", "{{message}}"]');
    const found = onPath(argv0, ctx.env);
    return found
      ? ok("agent", `command backend: ${found} exists and is executable`)
      : fail("agent", `command backend: ${argv0} is not an executable file${isAbsolute(argv0) ? "" : " on PATH"}`, "install it, or set agent.command to its absolute path");
  }
  const { baseUrl, apiKeyEnv } = cfg.agent.openai;
  const key = ctx.env[apiKeyEnv];
  if (!key) return fail("agent", `openai backend: ${apiKeyEnv} is not set`, `export ${apiKeyEnv}=… in the gateway's environment (or <state>/gateway.env for the service)`);
  const r = await probe(`${baseUrl.replace(/\/$/, "")}/models`, { headers: { Authorization: `Bearer ${key}` } }, ctx.timeoutMs);
  if ("error" in r) return fail("agent", `openai backend: ${baseUrl} does not answer: ${scrub(r.error, [key])}`, "check agent.openai.baseUrl and the network");
  if (r.status === 200) return ok("agent", `openai backend: ${baseUrl} answers and accepts the key`);
  if (r.status === 401 || r.status === 403) return fail("agent", `openai backend: ${baseUrl} rejects the key in ${apiKeyEnv} (${r.status})`, `put a valid key in ${apiKeyEnv}`);
  return warn("agent", `openai backend: ${baseUrl} answers but GET /models gave ${r.status}; the key was not verified`, "check agent.openai.baseUrl");
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
  const cfg = loaded?.config ?? loadConfig({ defaultFile: "/nonexistent", env: {} }).config;
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
    await checkTelegram(ctx, loaded),
    await checkAgent(ctx, loaded),
    checkDisk(ctx),
    checkSizes(ctx, loaded),
  ];
}
