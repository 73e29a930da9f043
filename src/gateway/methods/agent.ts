import { parseCommand, runCommand } from "../../inbound/commands.ts";
import { waitForRun } from "../../runs/index.ts";
import { commandDeps } from "../chat-commands.ts";
import type { Handler } from "./types.ts";

/** `agent.wait`: the final of a run, at once if it finished, else when it does (AGENT_TIMEOUT at `timeoutMs`). */
export const agentWait: Handler<"agent.wait"> = (params, { gw }) => waitForRun(gw.agentRuns.registry, params.runId, params.timeoutMs);

/**
 * `agent`: two-stage. The ack `{runId, status:"accepted"}` goes out once the run is
 * accepted (its message on disk), before any of its events; the final `{runId, status,
 * summary}` when it ends. A repeated `idempotencyKey` joins the first run: same runId,
 * same final, no second run — also after a restart.
 */
export const agent: Handler<"agent"> = async (params, { gw, ack, caller }) => {
  // WebChat's chat box takes the chat commands too: answered here, never a run.
  const command = caller.client.mode === "webchat" ? parseCommand(params.message) : null;
  if (command) {
    const runId = `command-${crypto.randomUUID()}`;
    ack({ runId, status: "accepted" });
    const summary = await runCommand(command, params.sessionId ?? params.to ?? "main", commandDeps(gw));
    return { runId, status: "ok" as const, summary };
  }
  const run = await gw.agentRuns.start(params, { onAccepted: (runId) => ack({ runId, status: "accepted" }) });
  return run.done;
};
