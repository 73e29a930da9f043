import type { Handler } from "./types.ts";

/**
 * `agent`: two-stage. The ack `{runId, status:"accepted"}` goes out at once, the final
 * `{runId, status, summary}` when the run ends; events stream to every client meanwhile.
 * A repeated `idempotencyKey` joins the first run: same runId, no second run.
 */
export const agent: Handler<"agent"> = async (params, { gw, ack }) => {
  const timeoutMs = params.timeout !== undefined ? Math.ceil(params.timeout * 1000) : gw.config.agent.timeoutMs;
  const { value } = gw.runs.run(params.idempotencyKey, async () =>
    gw.agent.start({
      message: params.message,
      timeoutMs,
      ...(params.to !== undefined ? { to: params.to } : {}),
      ...(params.sessionId !== undefined ? { sessionId: params.sessionId } : {}),
    }),
  );
  const run = await value;
  ack({ runId: run.runId, status: "accepted" });
  return run.done;
};
