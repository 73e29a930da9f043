import * as v from "valibot";

/** A non-empty string of at most `max` characters. */
export const text = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));
/** A non-negative integer. */
export const count = () => v.pipe(v.number(), v.integer(), v.minValue(0));
/** Milliseconds since the Unix epoch. */
export const timestamp = () => v.pipe(v.number(), v.integer(), v.minValue(0));

export const PROVIDERS = ["whatsapp", "telegram"] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Versions of the gateway's state, so a client can order snapshots and deltas. */
export const StateVersionSchema = v.object({
  presence: count(),
  health: count(),
});
export type StateVersion = v.InferOutput<typeof StateVersionSchema>;

/** One presence entry: the gateway itself, a connected client, or a posted note. */
export const PresenceEntrySchema = v.object({
  host: v.string(),
  ip: v.string(),
  version: v.string(),
  mode: v.string(),
  lastInputSeconds: v.optional(count()),
  ts: timestamp(),
  reason: v.optional(v.string()),
  tags: v.optional(v.array(v.string())),
  instanceId: v.optional(v.string()),
  text: v.optional(v.string()),
  platform: v.optional(v.string()),
});
export type PresenceEntry = v.InferOutput<typeof PresenceEntrySchema>;

/** One recently used agent session, as health lists it. */
export const SessionSummarySchema = v.looseObject({
  key: v.string(),
  updatedAt: timestamp(),
  /** Milliseconds since `updatedAt`. */
  age: count(),
});
export type SessionSummary = v.InferOutput<typeof SessionSummarySchema>;

/** One MCP server in `health.agent.mcp`: `idle` (lazy, not used yet), `restarting` (waiting out its backoff). */
export const McpServerHealthSchema = v.looseObject({
  state: v.picklist(["idle", "starting", "ready", "restarting", "stopped"]),
  /** Tools the model may call (after allowTools/denyTools). */
  tools: count(),
  /** Times it died and was started again since the gateway started. */
  restarts: v.optional(count()),
  lastError: v.optional(v.string()),
});
export type McpServerHealth = v.InferOutput<typeof McpServerHealthSchema>;

/** The health snapshot: `health` method, `hello-ok.snapshot.health`, `clawdis health --json`. */
export const HealthSchema = v.looseObject({
  ok: v.boolean(),
  ts: timestamp(),
  uptimeMs: count(),
  /** Milliseconds it took to build this snapshot. */
  durationMs: count(),
  /** The `tick` interval, in seconds. */
  heartbeatSeconds: v.pipe(v.number(), v.minValue(0)),
  web: v.looseObject({
    linked: v.boolean(),
    /** Age of the WhatsApp link in ms; `null` when not linked. */
    authAgeMs: v.nullable(count()),
    connected: v.boolean(),
    /** Sends waiting in WhatsApp's pacing queue. */
    queued: v.optional(count()),
    /** Of those, sends waiting to be tried again after a transient error (or for the reconnect). */
    retrying: v.optional(count()),
    /** When WhatsApp last accepted a send (since the gateway started). */
    lastSendAt: v.optional(timestamp()),
    /** When the last message arrived from WhatsApp (since the gateway started). */
    lastInboundAt: v.optional(timestamp()),
  }),
  telegram: v.looseObject({
    configured: v.boolean(),
    /** Sends waiting in Telegram's pacing queue. */
    queued: v.optional(count()),
    /** Of those, sends waiting to be tried again after a transient error (5xx, 429, network). */
    retrying: v.optional(count()),
    /** When Telegram last accepted a send (since the gateway started). */
    lastSendAt: v.optional(timestamp()),
    /** When the last message arrived from Telegram (since the gateway started). */
    lastInboundAt: v.optional(timestamp()),
    /** Privacy mode is on (getMe `can_read_all_group_messages` false): in groups the bot sees only commands addressed to it and replies. */
    privacyMode: v.optional(v.boolean()),
  }),
  agent: v.looseObject({
    backend: v.string(),
    /** Each configured MCP server (`agent.mcp.servers`): its state, the tools it offers, why it last failed. */
    mcp: v.optional(v.record(v.string(), McpServerHealthSchema)),
  }),
  /** The agent's session store: where it is, how many sessions, the (at most 10) most recent. */
  sessions: v.looseObject({
    path: v.string(),
    count: count(),
    recent: v.pipe(v.array(SessionSummarySchema), v.maxLength(10)),
  }),
  /** Present only while the state dir's disk is full (ENOSPC/EDQUOT): `ok` is false meanwhile. */
  disk: v.optional(
    v.looseObject({
      full: v.literal(true),
      /** ENOSPC or EDQUOT. */
      code: v.string(),
      /** The file whose write failed first. */
      path: v.string(),
      since: timestamp(),
      /** "the state dir is full (ENOSPC at <path>)" */
      message: v.string(),
    }),
  ),
  /** The config in force: its file (null: embedded defaults), sha256, when it was loaded, keys waiting for a restart. */
  config: v.optional(
    v.looseObject({
      file: v.nullable(v.string()),
      hash: v.nullable(v.string()),
      loadedAt: timestamp(),
      restartRequired: v.array(v.string()),
      /** The last reload attempt, when it was refused: every problem found. */
      lastError: v.optional(v.looseObject({ at: timestamp(), problems: v.array(v.string()) })),
      /** Where the gateway token in force comes from: `--token` > `CLAWDIS_GATEWAY_TOKEN` > the file. */
      tokenSource: v.optional(v.picklist(["flag", "env", "file", "none"])),
      /** What in force differs from the file and why (e.g. its token overridden by the environment). */
      warnings: v.optional(v.array(v.string())),
    }),
  ),
});
export type Health = v.InferOutput<typeof HealthSchema>;
