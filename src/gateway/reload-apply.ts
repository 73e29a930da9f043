import { createBackend } from "../agent/backends/index.ts";
import type { ToolBox } from "../agent/mcp/hub.ts";
import type { AgentRunner } from "../agent/runner.ts";
import type { AgentBackend } from "../agent/types.ts";
import type { Config } from "../config/schema.ts";
import type { ReloadPlan } from "../config/reload.ts";
import type { Logger } from "../log.ts";
import { CloseCode } from "../protocol/index.ts";
import type { AuthLimiter } from "../core/auth-limit.ts";
import type { Connection } from "./connection.ts";

export interface ReloadApplyDeps {
  log: Logger;
  agent: AgentRunner;
  /** A backend given by the caller (tests) is never rebuilt from config. */
  fixedBackend: boolean;
  /** The MCP tools a rebuilt openai backend offers. */
  mcp?: ToolBox;
  authLimiter: () => AuthLimiter;
  /** Restart the tick timer with the interval in force (no-op before start). */
  restartTick: () => void;
  connections: () => Iterable<Connection>;
  /** The connection whose `config.reload` this is: it gets its answer before the close. */
  reloadCaller: () => string | undefined;
  onReload?: (current: Config, previous: Config, plan: ReloadPlan) => void;
}

/**
 * What a reload changes in the running gateway, as LiveConfig's `prepare`: everything that
 * can fail (a new backend) is built first, so a reload applies whole or not at all; the
 * returned function then applies it.
 */
export function reloadApplier(deps: ReloadApplyDeps) {
  return (plan: ReloadPlan, previous: Config): (() => void) => {
    const next = plan.effective;
    const changed = (prefix: string) => plan.applied.some((k) => k === prefix || k.startsWith(`${prefix}.`));
    const backendKeys = ["agent.backend", "agent.openai", "agent.command", "agent.commandCwd", "agent.commandFirstTurn", "agent.commandInput", "agent.inboundHeader", "agent.maxToolRounds"];
    const backend: AgentBackend | undefined =
      !deps.fixedBackend && backendKeys.some(changed) ? createBackend(next, deps.log.child("agent"), process.env, deps.mcp) : undefined;
    return () => {
      if (backend || changed("agent.maxConcurrent")) {
        deps.agent.reconfigure({ ...(backend ? { backend } : {}), maxConcurrent: next.agent.maxConcurrent });
      }
      if (changed("gateway.authFailuresPerMinute")) deps.authLimiter().setMaxFailures(next.gateway.authFailuresPerMinute);
      if (changed("gateway.tickIntervalMs")) deps.restartTick();
      if (next.gateway.token !== previous.gateway.token && next.gateway.token !== undefined) {
        // The logger scrubbed only the start-up token from free text: the new one joins it.
        deps.log.addSecret(next.gateway.token);
        closeRotated(deps);
      }
      deps.onReload?.(next, previous, plan);
    };
  };
}

/** Every open connection authenticated with the old token (or none): it is no longer good. */
function closeRotated(deps: ReloadApplyDeps): void {
  let closed = 0;
  const caller = deps.reloadCaller();
  for (const conn of [...deps.connections()]) {
    if (!conn.isOpen) continue;
    // The connection that asked (config.reload) gets its answer first, then the same close.
    if (conn.connId === caller) setTimeout(() => conn.close(CloseCode.UNAUTHORIZED, "token rotated"), 0);
    else conn.close(CloseCode.UNAUTHORIZED, "token rotated");
    closed += 1;
  }
  deps.log.warn(`gateway token rotated: the old token is refused; ${closed} connection(s) using it closed (4001)`);
}
