import * as v from "valibot";
import { count, HealthSchema, PresenceEntrySchema, StateVersionSchema, text } from "./common.ts";
import { ErrorShapeSchema } from "./errors.ts";

/** The protocol versions this build speaks. */
export const PROTOCOL_VERSION = 1;
export const MIN_PROTOCOL_VERSION = 1;

const ProtocolNumber = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000));

export const ClientInfoSchema = v.looseObject({
  name: text(64),
  version: text(64),
  platform: text(64),
  mode: text(32),
  /** Optional: without it the gateway uses one stable id for this connection. */
  instanceId: v.optional(text(128)),
  /** Optional: the client's host name, shown in presence (the remote address otherwise). */
  host: v.optional(text(255)),
});
export type ClientInfo = v.InferOutput<typeof ClientInfoSchema>;

/**
 * Capabilities a client may announce in `hello.caps`. New wire shapes are opt-in through
 * one of these; a client that announces none gets the runbook's shapes. Unknown caps are ignored.
 */
export const CAPS = {
  /** `presence` events as `{upserted, removed}` deltas and `system-presence` as `{presence, stateVersion}`. */
  presenceDeltas: "presence-deltas",
} as const;

/** The mandatory first frame from a client. Unknown fields here and in `client` are ignored. */
export const HelloSchema = v.looseObject({
  type: v.literal("hello"),
  minProtocol: ProtocolNumber,
  maxProtocol: ProtocolNumber,
  client: ClientInfoSchema,
  /** Optional (default `[]`): see `CAPS`. */
  caps: v.optional(v.pipe(v.array(text(64)), v.maxLength(64)), []),
  auth: v.optional(v.looseObject({ token: v.optional(v.pipe(v.string(), v.maxLength(4096))) })),
  locale: v.optional(v.pipe(v.string(), v.maxLength(64))),
  userAgent: v.optional(v.pipe(v.string(), v.maxLength(512))),
  /** Replay the broadcast events this client missed since `cursor` (additive to v1). */
  resume: v.optional(v.looseObject({ cursor: text(128) })),
});
export type Hello = v.InferOutput<typeof HelloSchema>;

export const PolicySchema = v.object({
  maxPayload: count(),
  maxBufferedBytes: count(),
  tickIntervalMs: count(),
});
export type Policy = v.InferOutput<typeof PolicySchema>;

export const SnapshotSchema = v.object({
  presence: v.array(PresenceEntrySchema),
  health: HealthSchema,
  stateVersion: StateVersionSchema,
  uptimeMs: count(),
  /** The event journal's position at this snapshot: resume from here after a reconnect. */
  cursor: v.optional(v.string()),
});
export type Snapshot = v.InferOutput<typeof SnapshotSchema>;

export const HelloOkSchema = v.object({
  type: v.literal("hello-ok"),
  protocol: ProtocolNumber,
  server: v.object({
    version: v.string(),
    commit: v.string(),
    host: v.string(),
    connId: v.string(),
  }),
  features: v.object({
    methods: v.array(v.string()),
    events: v.array(v.string()),
  }),
  snapshot: SnapshotSchema,
  policy: PolicySchema,
  /** Present when the hello asked to resume: `ok` with the number of replayed events, or why not. */
  resume: v.optional(
    v.object({
      ok: v.boolean(),
      replayed: v.optional(count()),
      reason: v.optional(v.string()),
    }),
  ),
});
export type HelloOk = v.InferOutput<typeof HelloOkSchema>;

export const HELLO_ERROR_REASONS = ["invalid-hello", "unauthorized", "rate-limited", "protocol-mismatch", "unavailable"] as const;
export type HelloErrorReason = (typeof HELLO_ERROR_REASONS)[number];

export const HelloErrorSchema = v.object({
  type: v.literal("hello-error"),
  reason: v.picklist(HELLO_ERROR_REASONS),
  message: v.string(),
  /** Present on `protocol-mismatch`: the range this gateway speaks. */
  supported: v.optional(v.object({ minProtocol: ProtocolNumber, maxProtocol: ProtocolNumber })),
  /** Present on `rate-limited` and `unavailable`: when to try again. */
  retryAfterMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
export type HelloError = v.InferOutput<typeof HelloErrorSchema>;

export const ReqSchema = v.looseObject({
  type: v.literal("req"),
  id: text(128),
  method: text(64),
  params: v.optional(v.unknown()),
});
export type Req = v.InferOutput<typeof ReqSchema>;

export const ResOkSchema = v.object({
  type: v.literal("res"),
  id: v.string(),
  ok: v.literal(true),
  payload: v.unknown(),
});
export const ResErrorSchema = v.object({
  type: v.literal("res"),
  id: v.string(),
  ok: v.literal(false),
  error: ErrorShapeSchema,
});
export const ResSchema = v.variant("ok", [ResOkSchema, ResErrorSchema]);
export type Res = v.InferOutput<typeof ResSchema>;

export const EventFrameSchema = v.object({
  type: v.literal("event"),
  event: v.string(),
  payload: v.unknown(),
  /** Per-connection sequence: 1, 2, 3… with no gaps. `tick` carries none. */
  seq: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  stateVersion: v.optional(StateVersionSchema),
  /** Gateway-wide position of a journaled broadcast event (not on `tick`/`shutdown`): pass it back in `hello.resume`. */
  cursor: v.optional(v.string()),
});
export type EventFrame = v.InferOutput<typeof EventFrameSchema>;

/** Anything a client may send. */
export const ClientFrameSchema = v.variant("type", [HelloSchema, ReqSchema]);
/** Anything the gateway may send. */
export const ServerFrameSchema = v.union([HelloOkSchema, HelloErrorSchema, ResSchema, EventFrameSchema]);
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

