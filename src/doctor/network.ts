import { createServer } from "node:net";
import { delimiter, isAbsolute, join } from "node:path";
import { accessSync, constants, statSync } from "node:fs";
import type { LoadedConfig } from "../config/load.ts";
import { dialHost } from "../core/net.ts";
import { liveHolder } from "../gateway/lock.ts";
import { backendName } from "../agent/backends/index.ts";
import { listenersOnPort } from "../gateway/force.ts";
import { configOrDefaults, fail, ok, scrub, warn, type DoctorContext, type Finding } from "./finding.ts";

// The checks that touch the network or the PATH: the port, the running gateway, Telegram, the agent.

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export async function checkPort(ctx: DoctorContext, loaded: LoadedConfig | null): Promise<Finding> {
  const { bind, port, token } = configOrDefaults(loaded).gateway;
  if (port === 0) return ok("port", "gateway.port is 0: any free port is taken at start");
  if (await portFree(bind, port)) return ok("port", `${bind}:${port} is free`);
  const holder = liveHolder(ctx.paths.lock);
  if (holder && holder.port === port) {
    const about = await askGateway(`ws://${dialHost(bind)}:${port}`, token, ctx.timeoutMs);
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

export async function probe(url: string, init: RequestInit, timeoutMs: number): Promise<{ status: number; body: unknown } | { error: string }> {
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
