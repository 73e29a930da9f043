import * as v from "valibot";
import { count, HealthSchema, PresenceEntrySchema, PROVIDERS, StateVersionSchema, text, timestamp } from "./common.ts";
import { ErrorShapeSchema } from "./errors.ts";
import { LedgerGetParamsSchema, LedgerGetResultSchema, LedgerListParamsSchema, LedgerListResultSchema } from "./ledger.ts";
import { PairingApproveResultSchema, PairingDecideParamsSchema, PairingListResultSchema, PairingRejectResultSchema } from "./pairing.ts";

/** Methods that take no parameters accept `params` omitted or `{}`. */
const NoParams = v.optional(v.strictObject({}));

export const StatusSchema = v.object({
  version: v.string(),
  commit: v.string(),
  host: v.string(),
  uptimeMs: count(),
  /** Providers that are linked and can send right now. */
  linked: v.array(v.string()),
  providers: v.object({
    whatsapp: v.object({ linked: v.boolean(), connected: v.boolean() }),
    telegram: v.object({ configured: v.boolean(), connected: v.boolean() }),
  }),
  clients: count(),
  agent: v.object({ backend: v.string(), running: count() }),
});

export const PresenceListSchema = v.object({
  presence: v.array(PresenceEntrySchema),
  stateVersion: StateVersionSchema,
});

export const SystemEventParamsSchema = v.strictObject({
  text: text(2000),
  tags: v.optional(v.pipe(v.array(text(64)), v.maxLength(32))),
  /** Post for another instance (e.g. a node the caller speaks for); defaults to the caller's own entry. */
  instanceId: v.optional(text(128)),
  host: v.optional(text(255)),
  mode: v.optional(text(32)),
  version: v.optional(text(64)),
  lastInputSeconds: v.optional(count()),
  reason: v.optional(text(128)),
});
export type SystemEventParams = v.InferOutput<typeof SystemEventParamsSchema>;

export const SystemEventResultSchema = v.object({
  entry: PresenceEntrySchema,
  stateVersion: StateVersionSchema,
});


export const SendParamsSchema = v.strictObject({
  to: text(256),
  message: v.pipe(v.string(), v.maxLength(65_536)),
  mediaUrl: v.optional(v.pipe(v.string(), v.url(), v.maxLength(4096))),
  provider: v.optional(v.picklist(PROVIDERS)),
  idempotencyKey: text(256),
});
export type SendParams = v.InferOutput<typeof SendParamsSchema>;

export const SendResultSchema = v.object({
  provider: v.picklist(PROVIDERS),
  to: v.string(),
  messageId: v.string(),
  ts: timestamp(),
  /** A long message went out as several (in order); `messageId` is the first one's. */
  messageIds: v.optional(v.array(v.string())),
});
export type SendResult = v.InferOutput<typeof SendResultSchema>;

export const AgentParamsSchema = v.strictObject({
  message: text(100_000),
  to: v.optional(text(256)),
  sessionId: v.optional(text(128)),
  /** Deadline in seconds; the config's `agent.timeoutMs` otherwise. */
  timeout: v.optional(v.pipe(v.number(), v.minValue(0.001), v.maxValue(86_400))),
  deliver: v.optional(v.boolean()),
  idempotencyKey: text(256),
});
export type AgentParams = v.InferOutput<typeof AgentParamsSchema>;

/** First `res` of an `agent` request. */
export const AgentAckSchema = v.object({
  runId: v.string(),
  status: v.literal("accepted"),
});
/** Outcome of `deliver:true`: the reply sent through the provider, or why not. */
export const DeliverySchema = v.object({
  ok: v.boolean(),
  provider: v.optional(v.picklist(PROVIDERS)),
  messageId: v.optional(v.string()),
  error: v.optional(ErrorShapeSchema),
});

/** Final `res` of an `agent` request, same `id` as the ack. */
export const AgentFinalSchema = v.object({
  runId: v.string(),
  status: v.picklist(["ok", "error"]),
  summary: v.string(),
  delivery: v.optional(DeliverySchema),
});
export type AgentAck = v.InferOutput<typeof AgentAckSchema>;
export type AgentFinal = v.InferOutput<typeof AgentFinalSchema>;

export const AgentWaitParamsSchema = v.strictObject({
  runId: text(128),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400_000))),
});

export const WebLoginStartParamsSchema = v.strictObject({
  /** Link by pairing code for this phone number instead of a QR code. */
  pairingPhone: v.optional(text(32)),
});
export const WebLoginStartResultSchema = v.object({
  /** Render this as a QR code and scan it in WhatsApp → Linked devices. */
  qr: v.optional(v.string()),
  /** Enter this in WhatsApp → Linked devices → Link with phone number. */
  pairingCode: v.optional(v.string()),
  alreadyLinked: v.optional(v.boolean()),
});
export const WebLoginWaitParamsSchema = v.strictObject({
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(600_000))),
});
export const WebLoginWaitResultSchema = v.object({ linked: v.boolean(), qr: v.optional(v.string()) });
export const WebLogoutResultSchema = v.object({ linked: v.literal(false) });

/**
 * THE method table: name → params schema and result schema. Handlers live in
 * `src/gateway/methods/`, one file each, bound to these entries.
 */
export const METHODS = {
  health: { params: NoParams, result: HealthSchema },
  status: { params: NoParams, result: StatusSchema },
  "system-presence": { params: NoParams, result: PresenceListSchema },
  "system-event": { params: SystemEventParamsSchema, result: SystemEventResultSchema },
  send: { params: SendParamsSchema, result: SendResultSchema },
  agent: { params: AgentParamsSchema, result: v.union([AgentAckSchema, AgentFinalSchema]) },
  "agent.wait": { params: AgentWaitParamsSchema, result: AgentFinalSchema },
  "web.login.start": { params: WebLoginStartParamsSchema, result: WebLoginStartResultSchema },
  "web.login.wait": { params: WebLoginWaitParamsSchema, result: WebLoginWaitResultSchema },
  "web.logout": { params: NoParams, result: WebLogoutResultSchema },
  "ledger.list": { params: v.optional(LedgerListParamsSchema), result: LedgerListResultSchema },
  "ledger.get": { params: LedgerGetParamsSchema, result: LedgerGetResultSchema },
  "pairing.list": { params: NoParams, result: PairingListResultSchema },
  "pairing.approve": { params: PairingDecideParamsSchema, result: PairingApproveResultSchema },
  "pairing.reject": { params: PairingDecideParamsSchema, result: PairingRejectResultSchema },
} as const;

export type MethodName = keyof typeof METHODS;
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];
export type MethodParams<M extends MethodName> = v.InferOutput<(typeof METHODS)[M]["params"]>;
export type MethodResult<M extends MethodName> = v.InferOutput<(typeof METHODS)[M]["result"]>;
