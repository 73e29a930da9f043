import { createBackend } from "../agent/backends/index.ts";
import { McpHub } from "../agent/mcp/hub.ts";
import { AgentRunner } from "../agent/runner.ts";
import type { SessionStore } from "../agent/sessions.ts";
import type { AgentBackend } from "../agent/types.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { GatewayCounters } from "../metrics/counters.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { SessionsSummary } from "./sessions-summary.ts";

/**
 * The agent as the gateway runs it: the runner on the configured backend (or the one a test
 * hands in), and the MCP servers whose tools the openai backend offers (issue 24). Every run
 * event is counted and broadcast; a lifecycle event marks the sessions summary stale.
 */
export function agentSetup(deps: {
  config: Config;
  log: Logger;
  backend?: AgentBackend;
  sessionStore: SessionStore;
  sessions: SessionsSummary;
  counters: GatewayCounters;
  broadcaster: Broadcaster;
  /** An MCP server's state changed (it shows in health). */
  onMcpChange: () => void;
}): { agent: AgentRunner; mcp: McpHub } {
  const { config, log, counters, broadcaster } = deps;
  const mcp = new McpHub({ ...config.agent.mcp, log: log.child("mcp"), onChange: deps.onMcpChange });
  // Another account on this host reaches the agent through 127.0.0.1 when there is no token: the tools with it.
  const servers = Object.keys(config.agent.mcp.servers);
  if (servers.length > 0 && !config.gateway.token) {
    log.warn(`agent.mcp.servers (${servers.join(", ")}) with no gateway token: any account on this host can use these tools through the agent; set gateway.token`);
  }
  const agent = new AgentRunner({
    backend: deps.backend ?? createBackend(config, log.child("agent"), process.env, mcp),
    log: log.child("agent"),
    onEvent: (event) => {
      if (event.stream === "lifecycle") deps.sessions.touch();
      counters.agentEvent(event);
      broadcaster.broadcast("agent", event);
    },
    sessions: deps.sessionStore,
    maxConcurrent: config.agent.maxConcurrent,
  });
  return { agent, mcp };
}
