import { GatewayError, type AgentFinal, type AgentParams, type InboundMedia, type ProviderName } from "../../protocol/index.ts";
import type { GatewayContext } from "../context.ts";
import type { Handler } from "./types.ts";

/**
 * Start (or join, by idempotency key) an agent run. Shared by the `agent` method and
 * inbound messages (which deliver the reply through the provider they came from).
 */
export function startAgentRun(
  gw: GatewayContext,
  params: AgentParams,
  via?: ProviderName,
  /** From a chat message: the message the reply answers (groups) and the files it held. */
  chat: { replyTo?: string; media?: InboundMedia[] } = {},
): Promise<{ runId: string; done: Promise<AgentFinal> }> {
  // `timeout: 0` is "the configured default" (the macOS app's way of saying none).
  const timeoutMs = params.timeout ? Math.ceil(params.timeout * 1000) : gw.config.agent.timeoutMs;
  const key = params.idempotencyKey;
  return gw.runs.run(key, async () => {
    // Known from before a restart: the same runId, and its final (or why there is none).
    const prior = gw.idempotency.get("agent", key);
    if (prior?.runId) {
      const final: AgentFinal =
        prior.state === "done"
          ? (prior.result as AgentFinal)
          : { runId: prior.runId, status: "error", summary: "interrupted: the gateway restarted during this run" };
      return { runId: prior.runId, done: Promise.resolve(final) };
    }
    const run = await gw.agent.start({
      message: params.message,
      timeoutMs,
      // `to: ""` is no destination.
      ...(params.to ? { to: params.to } : {}),
      ...(params.sessionId !== undefined ? { sessionId: params.sessionId } : {}),
      ...(params.thinking !== undefined ? { thinking: params.thinking } : {}),
      ...(chat.media ? { media: chat.media } : {}),
    });
    await gw.idempotency.put({ key, kind: "agent", state: "pending", runId: run.runId, ts: Date.now() });
    const done = run.done
      .then((final) => gw.delivery.deliver(params, final, via, chat.replyTo))
      .then(
        async (final) => {
          // A run cut short by shutdown is not an outcome: a retry after restart runs it again.
          const state = final.status === "error" && final.summary === "shutdown" ? "failed" : "done";
          await gw.idempotency.put({ key, kind: "agent", state, runId: run.runId, result: final, ts: Date.now() });
          return final;
        },
        async (err) => {
          await gw.idempotency.put({ key, kind: "agent", state: "failed", runId: run.runId, ts: Date.now() });
          throw err;
        },
      );
    done.catch(() => {});
    gw.runRegistry.add(run.runId, done);
    return { runId: run.runId, done };
  }).value;
}

/** `agent.wait`: the final of a run, at once if it finished, else when it does (AGENT_TIMEOUT at `timeoutMs`). */
export const agentWait: Handler<"agent.wait"> = async (params, { gw }) => {
  const entry = gw.runRegistry.get(params.runId);
  if (!entry) {
    throw new GatewayError("INVALID_REQUEST", `unknown runId "${params.runId}" (finished runs are kept 10 minutes)`, {
      details: { field: "params.runId" },
    });
  }
  if (entry.final) return entry.final;
  if (entry.error) throw entry.error;
  if (params.timeoutMs === undefined) return entry.done;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GatewayError("AGENT_TIMEOUT", `run ${params.runId} did not finish within ${params.timeoutMs} ms`, { retryable: true })),
      params.timeoutMs,
    );
  });
  try {
    return await Promise.race([entry.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * `agent`: two-stage. The ack `{runId, status:"accepted"}` goes out once the run is
 * accepted (its message on disk), the final `{runId, status, summary}` when it ends;
 * events stream to every client meanwhile. A repeated `idempotencyKey` joins the
 * first run: same runId, same final, no second run — also after a reconnect.
 */
export const agent: Handler<"agent"> = async (params, { gw, ack }) => {
  const run = await startAgentRun(gw, params);
  ack({ runId: run.runId, status: "accepted" });
  return run.done;
};
