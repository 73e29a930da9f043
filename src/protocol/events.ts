import * as v from "valibot";
import { count, HealthSchema, PresenceEntrySchema, timestamp } from "./common.ts";

export const AgentEventSchema = v.object({
  runId: v.string(),
  /** Per-run sequence, 1, 2, 3… (the frame's own `seq` is per connection). */
  seq: v.pipe(v.number(), v.integer(), v.minValue(1)),
  /** `lifecycle` (start/end), `assistant` (text deltas), `tool`, `error`. */
  stream: v.string(),
  ts: timestamp(),
  data: v.unknown(),
});
export type AgentEvent = v.InferOutput<typeof AgentEventSchema>;

/** `agent` event `stream:"tool"`, `data` when a tool call starts (`name` is `<server>__<tool>`). */
export const ToolCallEventSchema = v.object({
  phase: v.literal("call"),
  callId: v.string(),
  name: v.string(),
  /** The arguments the model gave (its raw text when they were not a JSON object). */
  args: v.unknown(),
});
/** `agent` event `stream:"tool"`, `data` when a tool call ends: its outcome, the first 2,000 characters of its result, its time. */
export const ToolResultEventSchema = v.object({
  phase: v.literal("result"),
  callId: v.string(),
  name: v.string(),
  ok: v.boolean(),
  result: v.pipe(v.string(), v.maxLength(2_000)),
  ms: count(),
});
export const ToolEventDataSchema = v.variant("phase", [ToolCallEventSchema, ToolResultEventSchema]);
export type ToolEventData = v.InferOutput<typeof ToolEventDataSchema>;

/** A presence delta: entries added or changed, and entries gone (each with its `reason`). */
export const PresenceEventSchema = v.object({
  upserted: v.array(PresenceEntrySchema),
  removed: v.array(PresenceEntrySchema),
});
export type PresenceEvent = v.InferOutput<typeof PresenceEventSchema>;
/** The runbook's `presence` event: the whole list (for clients without the `presence-deltas` cap). */
export const PresenceListEventSchema = v.object({
  presence: v.array(PresenceEntrySchema),
});
export type PresenceListEvent = v.InferOutput<typeof PresenceListEventSchema>;

export const TickEventSchema = v.object({ ts: timestamp() });

export const ShutdownEventSchema = v.object({
  reason: v.string(),
  restartExpectedMs: v.optional(count()),
});
export type ShutdownEvent = v.InferOutput<typeof ShutdownEventSchema>;

/** Event name → payload schema. */
export const EVENTS = {
  agent: AgentEventSchema,
  /** `{presence}` by default; `{upserted, removed}` for clients whose hello announces `presence-deltas`. */
  presence: v.union([PresenceListEventSchema, PresenceEventSchema]),
  health: HealthSchema,
  tick: TickEventSchema,
  shutdown: ShutdownEventSchema,
} as const;
export type EventName = keyof typeof EVENTS;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
export type EventPayload<E extends EventName> = v.InferOutput<(typeof EVENTS)[E]>;
