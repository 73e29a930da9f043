import type { ToolUse } from "./types.ts";

/** Bounds the calls a run records (a model looping on tools is stopped by maxToolRounds well before). */
const MAX_TOOL_USES = 256;

/** A `tool` event, as the run's record of its calls: args from the call, outcome from the result. */
export function recordTool(data: unknown, args: Map<string, unknown>, tools: ToolUse[]): void {
  const d = data as { phase?: string; callId?: string; name?: string; args?: unknown; ok?: boolean; ms?: number; result?: unknown } | null;
  if (typeof d?.callId !== "string" || typeof d.name !== "string") return;
  if (d.phase === "call" && args.size < MAX_TOOL_USES) args.set(d.callId, d.args);
  if (d.phase !== "result" || tools.length >= MAX_TOOL_USES) return;
  tools.push({
    name: d.name,
    ok: d.ok === true,
    ms: typeof d.ms === "number" ? d.ms : 0,
    ...(args.has(d.callId) ? { args: args.get(d.callId) } : {}),
    ...(typeof d.result === "string" ? { result: d.result } : {}),
  });
}
