import { GatewayError, type AgentFinal } from "../protocol/index.ts";
import type { RunRegistry } from "./registry.ts";

/** The final of a run: at once if it finished, else when it does; AGENT_TIMEOUT after `timeoutMs` (absent: no limit). */
export async function waitForRun(registry: RunRegistry, runId: string, timeoutMs?: number): Promise<AgentFinal> {
  const entry = registry.get(runId);
  if (!entry) {
    throw new GatewayError("INVALID_REQUEST", `unknown runId "${runId}" (finished runs are kept 10 minutes)`, {
      details: { field: "params.runId" },
    });
  }
  if (entry.final) return entry.final;
  if (entry.error) throw entry.error;
  if (timeoutMs === undefined) return entry.done;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GatewayError("AGENT_TIMEOUT", `run ${runId} did not finish within ${timeoutMs} ms`, { retryable: true })),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([entry.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
