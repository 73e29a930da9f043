import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import { COMMIT, VERSION } from "../version.ts";
import type { GatewayContext } from "./context.ts";

/** The start-up lines: where, what, and which agent answers. */
export function logStarted(log: Logger, url: string, runtime: string, config: Config, backend: string): void {
  log.info(`listening on ${url}`, { runtime, version: VERSION, commit: COMMIT, auth: config.gateway.token ? "token" : "none", agent: backend });
  log.info(
    backend === "echo" ? "agent backend: echo (replies with the message; set agent.backend or OPENAI_API_KEY for a real assistant)" : `agent backend: ${backend}`,
  );
}

/** One info line a minute about client churn; each connect/disconnect is a debug record. */
export function logClientChurn(ctx: GatewayContext, connected: number): void {
  const { joined, left } = ctx.clientStats;
  if (joined === 0 && left === 0) return;
  ctx.log.info(`clients: ${connected} connected (+${joined} −${left} in the last minute)`);
  ctx.clientStats.joined = ctx.clientStats.left = 0;
}
