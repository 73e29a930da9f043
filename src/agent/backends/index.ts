import type { Config } from "../../config/schema.ts";
import { ConfigError } from "../../config/load.ts";
import type { Logger } from "../../log.ts";
import type { ToolBox } from "../mcp/hub.ts";
import type { AgentBackend } from "../types.ts";
import { commandBackend } from "./command.ts";
import { echoBackend } from "./echo.ts";
import { openAiBackend } from "./openai.ts";

/** `agent.backend`, or when unset: openai if its API key is in the environment, else echo. */
export function backendName(config: Config, env: Record<string, string | undefined>): "echo" | "openai" | "command" {
  if (config.agent.backend) return config.agent.backend;
  return env[config.agent.openai.apiKeyEnv] ? "openai" : "echo";
}

/** Build the configured backend; a config that cannot work is a ConfigError naming the key. */
export function createBackend(config: Config, log: Logger, env: Record<string, string | undefined> = process.env, tools?: ToolBox): AgentBackend {
  const name = backendName(config, env);
  const a = config.agent;
  switch (name) {
    case "echo":
      return echoBackend();
    case "openai": {
      const apiKey = env[a.openai.apiKeyEnv];
      return openAiBackend({
        baseUrl: a.openai.baseUrl,
        model: a.openai.model,
        inboundHeader: a.inboundHeader,
        log,
        maxToolRounds: a.maxToolRounds,
        ...(tools ? { tools } : {}),
        ...(apiKey ? { apiKey } : {}),
        ...(a.openai.systemPrompt !== undefined ? { systemPrompt: a.openai.systemPrompt } : {}),
        ...(a.openai.temperature !== undefined ? { temperature: a.openai.temperature } : {}),
      });
    }
    case "command":
      if (!a.command) {
        throw new ConfigError('agent.command: required when agent.backend is "command" (e.g. ["claude", "-p", "{{message}}"])');
      }
      return commandBackend({
        argv: a.command,
        log,
        input: a.commandInput,
        ...(a.commandFirstTurn ? { firstTurnArgv: a.commandFirstTurn } : {}),
        ...(a.commandCwd ? { cwd: a.commandCwd } : {}),
      });
  }
}
