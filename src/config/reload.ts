import type { Config } from "./schema.ts";

/**
 * Keys a running gateway cannot take live: the sockets it listens on, the providers'
 * connections, and parts built once at start-up (presence, journal, ledger, sessions).
 * A reload keeps their running values and names them (`health.config.restartRequired`).
 */
export const RESTART_KEYS: readonly string[] = [
  "gateway.port",
  "gateway.bind",
  "gateway.maxBufferedTotalBytes",
  "gateway.presenceTtlMs",
  "gateway.presenceMaxEntries",
  "gateway.presenceCoalesceMs",
  "gateway.journal",
  "gateway.watchConfig",
  "webchat",
  "telegram.botToken",
  "telegram.apiRoot",
  "telegram.pollTimeoutS",
  // Handed to the Bot API client / the WhatsApp socket when the provider is built.
  "telegram.sendTimeoutS",
  "whatsapp.enabled",
  "whatsapp.waVersion",
  "ledger",
  "agent.historyTurns",
  // MCP servers are started (and their tools listed) once, at gateway start.
  "agent.mcp",
];

function isRestartKey(path: string): boolean {
  return RESTART_KEYS.some((k) => path === k || path.startsWith(`${k}.`));
}

/** Leaf values by dot path; arrays are leaves (an allow-list changes as a whole). */
function flatten(value: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (value !== undefined) {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** Dot paths whose values differ between two configs, sorted. */
export function changedKeys(a: Config, b: Config): string[] {
  const fa = flatten(a, "", new Map());
  const fb = flatten(b, "", new Map());
  const keys = new Set([...fa.keys(), ...fb.keys()]);
  return [...keys].filter((k) => fa.get(k) !== fb.get(k)).sort();
}

function getPath(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = obj;
  for (const k of parts.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
  const last = parts.at(-1)!;
  if (value === undefined) delete o[last];
  else o[last] = structuredClone(value);
}

export interface ReloadPlan {
  /** The config to serve from now on: the new file, with restart-only keys at their running values. */
  effective: Config;
  /** Keys that changed and are applied now. */
  applied: string[];
  /** Keys that changed but only take effect after a restart. */
  restartRequired: string[];
}

/**
 * Decide what a reload does. `started` is the config the gateway started with (what its
 * sockets and providers really use), so a key changed and changed back is no longer pending.
 * `maxPayload` can shrink live (the gateway checks it itself) but not grow past what the
 * runtime was told at listen time.
 */
export function planReload(running: Config, next: Config, started: Config): ReloadPlan {
  const effective = structuredClone(next);
  const restartRequired: string[] = [];
  for (const key of changedKeys(started, next)) {
    if (!isRestartKey(key)) continue;
    restartRequired.push(key);
    setPath(effective as unknown as Record<string, unknown>, key, getPath(started, key));
  }
  if (next.gateway.maxPayload > started.gateway.maxPayload) {
    restartRequired.push("gateway.maxPayload");
    effective.gateway.maxPayload = started.gateway.maxPayload;
  }
  const applied = changedKeys(running, effective);
  return { effective, applied, restartRequired: restartRequired.sort() };
}
