import { GatewayError, type AgentFinal, type AgentParams } from "../../protocol/index.ts";
import type { GatewayContext } from "../context.ts";
import type { Handler } from "./types.ts";

/** `deliver:true`: send the reply through the `send` path (same idempotency); report, never fail the run. */
async function deliver(gw: GatewayContext, params: AgentParams, final: AgentFinal): Promise<AgentFinal> {
  if (!params.deliver || !params.to || final.status !== "ok") return final;
  try {
    const sent = await gw.sends.run(`${params.idempotencyKey}:deliver`, () =>
      gw.providers.send({ to: params.to!, message: final.summary, idempotencyKey: `${params.idempotencyKey}:deliver` }),
    ).value;
    return { ...final, delivery: { ok: true, provider: sent.provider, messageId: sent.messageId } };
  } catch (err) {
    const error =
      err instanceof GatewayError ? err.toShape() : { code: "UNAVAILABLE" as const, message: (err as Error).message };
    return { ...final, delivery: { ok: false, error } };
  }
}

/**
 * `agent`: two-stage. The ack `{runId, status:"accepted"}` goes out once the run is
 * accepted (its message on disk), the final `{runId, status, summary}` when it ends;
 * events stream to every client meanwhile. A repeated `idempotencyKey` joins the
 * first run: same runId, same final, no second run — also after a reconnect.
 */
export const agent: Handler<"agent"> = async (params, { gw, ack }) => {
  const timeoutMs = params.timeout !== undefined ? Math.ceil(params.timeout * 1000) : gw.config.agent.timeoutMs;
  const { value } = gw.runs.run(params.idempotencyKey, async () => {
    const run = await gw.agent.start({
      message: params.message,
      timeoutMs,
      ...(params.to !== undefined ? { to: params.to } : {}),
      ...(params.sessionId !== undefined ? { sessionId: params.sessionId } : {}),
    });
    const done = run.done.then((final) => deliver(gw, params, final));
    done.catch(() => {});
    return { runId: run.runId, done };
  });
  const run = await value;
  ack({ runId: run.runId, status: "accepted" });
  return run.done;
};
