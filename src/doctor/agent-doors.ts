import type { LoadedConfig } from "../config/load.ts";
import { isLoopbackUrl } from "../core/net.ts";
import { configOrDefaults, ok, warn, type Finding } from "./finding.ts";

/**
 * What the agent can reach, seen from another account on this host (the brief's attacker):
 * MCP tools behind a gateway without a token are that account's tools too (it can run the
 * agent through 127.0.0.1); and an endpoint on a loopback port that is not running can be
 * taken by that account, which then gets the API key or headers and the conversation.
 */
/** `serviceToken`: the service's gateway.env sets CLAWDIS_GATEWAY_TOKEN (the one the gateway really starts with). */
export function checkAgentDoors(loaded: LoadedConfig | null, serviceToken = false): Finding {
  const c = configOrDefaults(loaded);
  const servers = Object.keys(c.agent.mcp.servers);
  const found: string[] = [];
  const fixes: string[] = [];
  if (servers.length > 0 && !c.gateway.token && !serviceToken) {
    found.push(`agent.mcp.servers (${servers.join(", ")}) with no gateway token: any account on this host can run the agent, and so these tools, through 127.0.0.1`);
    fixes.push("set a gateway token (gateway.token or CLAWDIS_GATEWAY_TOKEN)");
  }
  const endpoints: [string, string | undefined][] = [
    ["agent.openai.baseUrl", c.agent.backend === "openai" ? c.agent.openai.baseUrl : undefined],
    ["agent.transcribe.baseUrl", c.agent.transcribe?.baseUrl],
    ...Object.entries(c.agent.mcp.servers).map(([name, s]): [string, string | undefined] => [`agent.mcp.servers.${name}.url`, s.url]),
  ];
  const local = endpoints.filter(([, url]) => url !== undefined && isLoopbackUrl(url)).map(([key]) => key);
  if (local.length > 0) {
    found.push(`${local.join(", ")} on a loopback port: while that server is down, another account can listen there and receive the key or headers and what the agent is told`);
    fixes.push("keep that server running under the service manager (started before the gateway), or reach it by a Unix-socket proxy or https");
  }
  if (found.length === 0) return ok("agent-doors", servers.length > 0 ? "MCP tools behind the gateway token; no agent endpoint on a loopback port" : "no MCP tools; no agent endpoint on a loopback port");
  return warn("agent-doors", found.join("; "), fixes.join("; "));
}
