import { waitForRun } from "../../runs/index.ts";
import type { Handler } from "./types.ts";

/** `agent.wait`: the final of a run, at once if it finished, else when it does (AGENT_TIMEOUT at `timeoutMs`). */
export const agentWait: Handler<"agent.wait"> = (params, { gw }) => waitForRun(gw.agentRuns.registry, params.runId, params.timeoutMs);

/**
 * `agent`: two-stage. The ack `{runId, status:"accepted"}` goes out once the run is
 * accepted (its message on disk), before any of its events; the final `{runId, status,
 * summary}` when it ends. A repeated `idempotencyKey` joins the first run: same runId,
 * same final, no second run — also after a restart.
 */
export const agent: Handler<"agent"> = async (params, { gw, ack }) => {
  const run = await gw.agentRuns.start(params, { onAccepted: (runId) => ack({ runId, status: "accepted" }) });
  return run.done;
};
