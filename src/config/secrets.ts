import type { Config } from "./schema.ts";

/** Values shorter than this are not treated as secrets to scrub (a header like `1` would blank every digit). */
const MIN_SECRET = 8;

/**
 * Every secret the config names or points at: the gateway and bot tokens, MCP servers'
 * header and env values, and (with `env`) the API keys behind `agent.openai.apiKeyEnv`
 * and `agent.transcribe.apiKeyEnv`. The log scrubs them all; a config file holding any of
 * the first kind must be private (doctor).
 */
export function configSecrets(config: Config, env: Record<string, string | undefined> = {}): string[] {
  const out = [config.gateway.token, config.telegram.botToken];
  for (const server of Object.values(config.agent.mcp.servers)) {
    out.push(...Object.values(server.headers ?? {}), ...Object.values(server.env ?? {}));
  }
  out.push(env[config.agent.openai.apiKeyEnv]);
  if (config.agent.transcribe) out.push(env[config.agent.transcribe.apiKeyEnv]);
  return [...new Set(out.filter((s): s is string => typeof s === "string" && s.length >= MIN_SECRET))];
}
