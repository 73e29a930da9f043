import type { CommandDeps } from "../inbound/commands.ts";
import { NEW_REASON } from "../inbound/pending-turns.ts";
import type { GatewayContext } from "./context.ts";

/** The model behind the backend in force, as `/status` names it. */
function modelOf(gw: GatewayContext): string | undefined {
  const a = gw.config.agent;
  const name = gw.agent.backendName;
  if (name === "openai") return a.openai.model;
  if (name === "command") return a.command?.[0];
  return undefined;
}

/** What the chat commands act on: the agent runner's sessions and runs, the providers' links. */
export function commandDeps(gw: GatewayContext): CommandDeps {
  return {
    newSession: async (sessionId) => {
      // Runs queued behind the one in progress were written before /new: dropped, never run in the new conversation.
      const { queued } = gw.agent.stopSession(sessionId, { queuedOnly: true, reason: NEW_REASON });
      const { ended } = await gw.agent.newSession(sessionId);
      return { endedTurns: ended.turns, dropped: queued };
    },
    stopSession: (sessionId) => gw.agent.stopSession(sessionId),
    botName: (provider) => {
      const name = gw.providers.status(provider).detail?.username;
      return typeof name === "string" ? name : undefined;
    },
    status: async (sessionId, provider) => {
      const runs = gw.agent.sessionRuns(sessionId);
      const state = await gw.agent.sessionState(sessionId);
      const model = modelOf(gw);
      const link = provider ? gw.providers.status(provider) : undefined;
      return {
        backend: gw.agent.backendName,
        ...(model ? { model } : {}),
        turns: state.turns,
        ...runs,
        ...(provider && link ? { link: { provider, state: link.connected ? "connected" : link.linked ? "not connected" : "not linked" } } : {}),
      };
    },
  };
}
