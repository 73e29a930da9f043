import * as v from "valibot";
import { count, HealthSchema, PresenceEntrySchema, PROVIDERS, StateVersionSchema, text, timestamp } from "./common.ts";
import { ErrorShapeSchema } from "./errors.ts";
import { LedgerGetParamsSchema, LedgerGetResultSchema, LedgerListParamsSchema, LedgerListResultSchema } from "./ledger.ts";
import {
  PairingApprovedResultSchema,
  PairingApproveResultSchema,
  PairingDecideParamsSchema,
  PairingListResultSchema,
  PairingRejectResultSchema,
  PairingRevokeParamsSchema,
  PairingRevokeResultSchema,
} from "./pairing.ts";

/**
 * Params policy (how v1 grows without breaking old clients): a field the gateway does
 * not know is ignored (`v.object` drops it), never refused; known fields keep their
 * strict types and bounds. Methods that take no parameters accept `params` omitted or `{}`.
 */
const NoParams = v.optional(v.object({}));

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

/** `system-presence` for clients with the `presence-deltas` cap: the list and the version a delta applies on. */
export const PresenceListSchema = v.object({
  presence: v.array(PresenceEntrySchema),
  stateVersion: StateVersionSchema,
});

/** `health` takes a `timeout` (ms) from clients that send one; the snapshot is cached, so it never waits. */
export const HealthParamsSchema = v.object({
  timeout: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(86_400_000))),
});

/** Every presence-entry field is accepted (the macOS app's presence reporter sends them all). */
export const SystemEventParamsSchema = v.object({
  text: text(2000),
  tags: v.optional(v.pipe(v.array(text(64)), v.maxLength(32))),
  /** Post for another instance (e.g. a node the caller speaks for); defaults to the caller's own entry. */
  instanceId: v.optional(text(128)),
  host: v.optional(text(255)),
  mode: v.optional(text(32)),
  version: v.optional(text(64)),
  lastInputSeconds: v.optional(count()),
  reason: v.optional(text(128)),
  /** The sender's own address (e.g. its LAN IP behind a tunnel); the socket's remote address otherwise. */
  ip: v.optional(text(128)),
  platform: v.optional(text(64)),
  /** Accepted for compatibility; the gateway stamps entries with its own clock. */
  ts: v.optional(timestamp()),
});
export type SystemEventParams = v.InferOutput<typeof SystemEventParamsSchema>;

export const SystemEventResultSchema = v.object({
  entry: PresenceEntrySchema,
  stateVersion: StateVersionSchema,
});


export const SendParamsSchema = v.object({
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

/** `agent.thinking` values the `openai` backend passes on as `reasoning_effort`; any other means the backend's default. */
export const THINKING_LEVELS = ["minimal", "low", "medium", "high"] as const;

export const AgentParamsSchema = v.object({
  message: text(100_000),
  /** `""` means no destination (the macOS app sends it). */
  to: v.optional(v.pipe(v.string(), v.maxLength(256))),
  sessionId: v.optional(text(128)),
  /** Deadline in seconds; `0` or absent means the config's `agent.timeoutMs`. */
  timeout: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(86_400))),
  /** Reasoning effort: see `THINKING_LEVELS`; other values (`"off"`, `"default"`) mean the backend's default. */
  thinking: v.optional(v.pipe(v.string(), v.maxLength(64))),
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
  /** The reply stopped at the model's length limit (`finish_reason: "length"`): whole, but cut; a chat can be told. */
  truncated: v.optional(v.boolean()),
  /** Why a run ended `status:"error"`: `UNAVAILABLE` (outage, 5xx, network, reply cut off; `retryable`, `retryAfterMs` for a 429). */
  error: v.optional(ErrorShapeSchema),
});
export type AgentAck = v.InferOutput<typeof AgentAckSchema>;
export type AgentFinal = v.InferOutput<typeof AgentFinalSchema>;

export const AgentWaitParamsSchema = v.object({
  runId: text(128),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400_000))),
});

export const WebLoginStartParamsSchema = v.object({
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
export const WebLoginWaitParamsSchema = v.object({
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(600_000))),
});
export const WebLoginWaitResultSchema = v.object({ linked: v.boolean(), qr: v.optional(v.string()) });
export const WebLogoutResultSchema = v.object({ linked: v.literal(false) });

/** `webchat.link`: a one-time sign-in link to the WebChat served beside this gateway. */
export const WebChatLinkResultSchema = v.object({
  /** Open it in a browser: it signs in once (single use), then the page keeps a session cookie. */
  url: v.string(),
  /** When the link's one-time code expires; absent when WebChat needs no sign-in (no token). */
  expiresAt: v.optional(timestamp()),
});
/** `config.reload`: re-read the config file; an invalid file is refused whole (`applied:false` + every problem). */
export const ConfigReloadResultSchema = v.object({
  applied: v.boolean(),
  file: v.nullable(v.string()),
  hash: v.nullable(v.string()),
  /** Keys now in force with their new values. */
  changed: v.array(v.string()),
  /** Keys that changed in the file but need a restart; their running values stay. */
  restartRequired: v.array(v.string()),
  problems: v.optional(v.array(v.string())),
  /** Applied, but what is in force differs from the file (e.g. its token overridden by the environment). */
  warnings: v.optional(v.array(v.string())),
});
export type ConfigReloadResult = v.InferOutput<typeof ConfigReloadResultSchema>;

/**
 * THE method table: name → params schema and result schema. Handlers live in
 * `src/gateway/methods/`, one file each, bound to these entries.
 */
export const METHODS = {
  health: { params: v.optional(HealthParamsSchema), result: HealthSchema },
  status: { params: NoParams, result: StatusSchema },
  /** The bare list (runbook); `{presence, stateVersion}` for clients with the `presence-deltas` cap. */
  "system-presence": { params: NoParams, result: v.union([v.array(PresenceEntrySchema), PresenceListSchema]) },
  "system-event": { params: SystemEventParamsSchema, result: SystemEventResultSchema },
  send: { params: SendParamsSchema, result: SendResultSchema },
  agent: { params: AgentParamsSchema, result: v.union([AgentAckSchema, AgentFinalSchema]) },
  "agent.wait": { params: AgentWaitParamsSchema, result: AgentFinalSchema },
  "web.login.start": { params: WebLoginStartParamsSchema, result: WebLoginStartResultSchema },
  "web.login.wait": { params: WebLoginWaitParamsSchema, result: WebLoginWaitResultSchema },
  "web.logout": { params: NoParams, result: WebLogoutResultSchema },
  "ledger.list": { params: v.optional(LedgerListParamsSchema), result: LedgerListResultSchema },
  "ledger.get": { params: LedgerGetParamsSchema, result: LedgerGetResultSchema },
  "webchat.link": { params: NoParams, result: WebChatLinkResultSchema },
  "config.reload": { params: NoParams, result: ConfigReloadResultSchema },
  "pairing.list": { params: NoParams, result: PairingListResultSchema },
  "pairing.approve": { params: PairingDecideParamsSchema, result: PairingApproveResultSchema },
  "pairing.reject": { params: PairingDecideParamsSchema, result: PairingRejectResultSchema },
  "pairing.approved": { params: NoParams, result: PairingApprovedResultSchema },
  "pairing.revoke": { params: PairingRevokeParamsSchema, result: PairingRevokeResultSchema },
} as const;

export type MethodName = keyof typeof METHODS;
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];
export type MethodParams<M extends MethodName> = v.InferOutput<(typeof METHODS)[M]["params"]>;
export type MethodResult<M extends MethodName> = v.InferOutput<(typeof METHODS)[M]["result"]>;
