import * as v from "valibot";

const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const Port = int(0, 65_535);

export const DEFAULT_GATEWAY_PORT = 18789;
export const DEFAULT_WEBCHAT_PORT = 18788;

/** The gateway section; every key has an embedded default. */
export const GatewayConfigSchema = v.strictObject({
  port: v.optional(Port, DEFAULT_GATEWAY_PORT),
  bind: v.optional(v.pipe(v.string(), v.minLength(1)), "127.0.0.1"),
  token: v.optional(v.pipe(v.string(), v.minLength(1))),
  tickIntervalMs: v.optional(int(100, 3_600_000), 30_000),
  handshakeTimeoutMs: v.optional(int(50, 600_000), 10_000),
  maxPayload: v.optional(int(1024, 64 * 1024 * 1024), 512 * 1024),
  maxBufferedBytes: v.optional(int(1024, 1024 * 1024 * 1024), 1.5 * 1024 * 1024),
  /** Queued bytes across all clients past which ticks and presence are dropped (clients see a seq gap). */
  maxBufferedTotalBytes: v.optional(int(1024, 16 * 1024 * 1024 * 1024), 64 * 1024 * 1024),
  allowedOrigins: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
  /** How long a presence entry without a live connection stays listed. */
  presenceTtlMs: v.optional(int(1_000, 86_400_000), 5 * 60_000),
  presenceMaxEntries: v.optional(int(16, 1_000_000), 10_000),
  /** Window in which presence changes are coalesced into one event. */
  presenceCoalesceMs: v.optional(int(0, 5_000), 25),
  logLevel: v.optional(v.picklist(["debug", "info", "warn", "error"]), "info"),
  /** Failed hello auth attempts per remote address per minute before `rate-limited`. */
  authFailuresPerMinute: v.optional(int(1, 10_000), 10),
  /** Recent broadcast events kept for `hello.resume`. */
  journal: v.optional(
    v.strictObject({
      maxEvents: v.optional(int(0, 1_000_000), 10_000),
      maxBytes: v.optional(int(0, 1024 * 1024 * 1024), 8 * 1024 * 1024),
      maxAgeMs: v.optional(int(0, 86_400_000), 10 * 60_000),
    }),
    {},
  ),
  /** Sockets allowed to be in their handshake (before hello-ok) at once. */
  maxPendingHandshakes: v.optional(int(1, 100_000), 256),
  /** A socket that sends no frame at all within this is closed (4000), freeing its handshake slot. */
  firstFrameTimeoutMs: v.optional(int(50, 600_000), 3_000),
  /** Re-read the config file when it changes (SIGHUP and `clawdis gateway reload` work either way). */
  watchConfig: v.optional(v.boolean(), true),
});

/** Who may start agent runs by messaging: [] nobody, ["*"] everyone, else ids/names. */
const AllowFrom = v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []);

/** Private chats from senders not in allowFrom: ignored (allowlist), offered a pairing code, or let in (open). */
const DmPolicy = v.optional(v.picklist(["allowlist", "pairing", "open"]), "allowlist");

/** Which groups may start runs, and whether a message must address the bot. */
const Groups = v.optional(
  v.strictObject({
    policy: v.optional(v.picklist(["disabled", "allowlist", "open"]), "disabled"),
    /** Group ids (Telegram) or group JIDs (WhatsApp), for policy "allowlist". */
    allow: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
    requireMention: v.optional(v.boolean(), true),
    /** Who in an allowed group may start a run (unset: the private `allowFrom` unless empty or "*", else anyone). */
    allowFrom: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
    /** Lines written in a group since the bot last answered there, given to the agent with the next question (memory only). */
    historyLines: v.optional(int(0, 200), 20),
  }),
  {},
);

/** How an agent's reply is written for a chat network. */
const ChatFormat = v.optional(v.picklist(["markdown", "plain"]), "markdown");

/** One send queue per provider: a gap per chat, a cap per minute, random extra delay. */
const pacing = (perChatMinIntervalMs: number, perMinute: number, jitterMs: number) =>
  v.optional(
    v.strictObject({
      perChatMinIntervalMs: v.optional(int(0, 3_600_000), perChatMinIntervalMs),
      perMinute: v.optional(int(1, 100_000), perMinute),
      jitterMs: v.optional(int(0, 600_000), jitterMs),
    }),
    {},
  );

/**
 * MCP servers whose tools the `openai` backend offers the model (issue 24): a stdio command
 * or a Streamable HTTP URL. Names become the `<server>__` prefix of the tool names, so they
 * are plain words (no `__`).
 */
const McpServerSchema = v.pipe(
  v.strictObject({
    /** A stdio server: its argv, never run through a shell. */
    command: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1))),
    env: v.optional(v.record(v.string(), v.string())),
    cwd: v.optional(v.string()),
    /** A Streamable HTTP server. */
    url: v.optional(v.pipe(v.string(), v.url())),
    headers: v.optional(v.record(v.string(), v.string())),
    /** Start on first use instead of at gateway start. */
    lazy: v.optional(v.boolean(), false),
    /** Glob patterns (`*`, `?`) of the tool names the model may call; absent: all. */
    allowTools: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
    /** Glob patterns of tools hidden from the model (wins over allowTools). */
    denyTools: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { command, url } = dataset.value;
    if ((command === undefined) === (url === undefined)) {
      addIssue({ expected: "either command (a stdio server's argv) or url (a Streamable HTTP server)", received: command ? "both" : "neither" });
    }
  }),
);
const McpServerName = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (dataset.typed && !/^[A-Za-z0-9-]{1,32}(?:_[A-Za-z0-9-]+)*$/.test(dataset.value)) {
      addIssue({ expected: "a name of letters, digits, - and single _ (tools are named <name>__<tool>)", received: JSON.stringify(dataset.value) });
    }
  }),
);
const Mcp = v.optional(
  v.strictObject({
    servers: v.optional(
      v.record(McpServerName, McpServerSchema),
      {},
    ),
    /** A tool call taking longer is cancelled (MCP cancellation) and the model gets an error result. */
    callTimeoutMs: v.optional(int(100, 3_600_000), 60_000),
    /** A tool result longer than this is cut, with a note saying so. */
    maxResultChars: v.optional(int(100, 10_000_000), 20_000),
    /** A server that has not answered `initialize` and `tools/list` by then has failed to start (and is retried). */
    startTimeoutMs: v.optional(int(100, 600_000), 30_000),
  }),
  {},
);

export const ConfigSchema = v.strictObject({
  $schema: v.optional(v.string()),
  telegram: v.optional(
    v.strictObject({
      /** Or TELEGRAM_BOT_TOKEN. */
      botToken: v.optional(v.pipe(v.string(), v.minLength(1))),
      /** Bot API root: a self-hosted Bot API server (or a test's fake). */
      apiRoot: v.optional(v.pipe(v.string(), v.url())),
      allowFrom: AllowFrom,
      pollTimeoutS: v.optional(int(0, 50), 30),
      /** Timeout of one send (uploads included); a long poll gets pollTimeoutS + 15 s. */
      sendTimeoutS: v.optional(int(1, 600), 60),
      dmPolicy: DmPolicy,
      groups: Groups,
      pacing: pacing(0, 1_200, 0),
      /** Show "typing…" (sendChatAction) in a chat while its run works. */
      typing: v.optional(v.boolean(), true),
      /** The agent's Markdown as Telegram HTML ("markdown"), or sent as written ("plain"). */
      format: ChatFormat,
    }),
    {},
  ),
  ledger: v.optional(
    v.strictObject({
      /** Copy message text into the ledger (off: it explains what happened, it is not an archive). */
      storeText: v.optional(v.boolean(), false),
      maxAgeMs: v.optional(int(60_000, 365 * 86_400_000), 7 * 86_400_000),
      maxFileBytes: v.optional(int(64 * 1024, 1024 * 1024 * 1024), 16 * 1024 * 1024),
      maxRecords: v.optional(int(100, 10_000_000), 100_000),
    }),
    {},
  ),
  whatsapp: v.optional(
    v.strictObject({
      allowFrom: AllowFrom,
      dmPolicy: DmPolicy,
      groups: Groups,
      pacing: pacing(1_000, 20, 500),
      /** Show "composing…" in a chat while its run works ("paused" at the end). */
      typing: v.optional(v.boolean(), true),
      /** The agent's Markdown in WhatsApp's markup ("markdown"), or sent as written ("plain"). */
      format: ChatFormat,
      /** Longer messages go out as several, split at paragraph/line/sentence/word boundaries. */
      maxMessageChars: v.optional(int(256, 65_536), 4_096),
      /** Link WhatsApp at start-up when credentials exist (default true). */
      enabled: v.optional(v.boolean(), true),
      /** WhatsApp Web version to announce, e.g. [2, 3000, 1023223821], when the bundled one is refused (405). */
      waVersion: v.optional(v.tuple([int(1, 1_000), int(0, 1_000_000), int(0, 2_000_000_000)])),
      /** Messages the linked account writes in its own chat ("Message yourself") are input, answered there. */
      selfChat: v.optional(v.boolean(), true),
      /** Mark a message read (blue ticks) when it starts a run. */
      readReceipts: v.optional(v.boolean(), true),
    }),
    {},
  ),
  /** Inbound messages: what happens to ones caught by a restart or delivered late. */
  inbound: v.optional(
    v.strictObject({
      /** Messages left unanswered by a restart younger than this are answered again; older ones are ledgered `skipped` (late arrivals: lateAnswerWindowMs). */
      retryWindowMs: v.optional(int(0, 7 * 86_400_000), 10 * 60_000),
      /** An edit of a message already answered is a new turn prefixed "(edited)" (default: ledgered `skipped`). */
      answerEdits: v.optional(v.boolean(), false),
      /** Issue 21: album items (and images/videos of one WhatsApp sender) merge into one turn once none came for this long. */
      albumWindowMs: v.optional(int(0, 60_000), 1_500),
      /** Consecutive texts of one sender in one chat within this merge into one turn (0: off). */
      debounceMs: v.optional(int(0, 60_000), 0),
      /** A message that reaches the gateway this long after it was written is late (the agent is told its age). */
      lateAfterMs: v.optional(int(0, 7 * 86_400_000), 60_000),
      /** Late messages older than this are not answered: ledgered `skipped: too old`, one `lateNotice` per chat per backlog. */
      lateAnswerWindowMs: v.optional(int(0, 30 * 86_400_000), 6 * 3_600_000),
      /** The notice for messages too old to answer (`{time}`: when the first was written); false: none. */
      lateNotice: v.optional(v.union([v.pipe(v.string(), v.minLength(1), v.maxLength(1_000)), v.literal(false)]), "I was offline when you wrote at {time}. Send it again if it still matters."),
      /** A run for a chat message that fails gets this one plain reply (`{reason}`: a short phrase); `false`: none. */
      errorReply: v.optional(v.union([v.literal(false), v.pipe(v.string(), v.minLength(1), v.maxLength(1_000))]), "Sorry, I couldn't answer that ({reason}). Please try again in a moment."),
      /** At most one error reply per chat within this. */
      errorReplyCooldownMs: v.optional(int(0, 7 * 86_400_000), 5 * 60_000),
    }),
    {},
  ),
  /** Outbound sends: retries of transient errors, and how old a queued send may get across a restart. */
  delivery: v.optional(
    v.strictObject({
      /** A send failing for a reason that may pass (or whose provider is reconnecting) is retried with backoff this long. */
      retryWindowMs: v.optional(int(0, 7 * 86_400_000), 10 * 60_000),
      /** A send still queued this long after it was made (waiting time while running, plus the time the gateway was down) is dropped at start-up. */
      maxQueuedAgeMs: v.optional(int(60_000, 365 * 86_400_000), 86_400_000),
    }),
    {},
  ),
  /** Files that come with inbound messages, saved under `<state>/media/inbound/`. */
  media: v.optional(
    v.strictObject({
      /** Larger files are not kept (ledger `skipped`, reason `media too large`); the text still goes on. */
      maxInboundBytes: v.optional(int(1, 2 * 1024 * 1024 * 1024), 20 * 1024 * 1024),
      /** All saved files together; past it the oldest are removed first. */
      maxTotalBytes: v.optional(int(1, 1024 * 1024 * 1024 * 1024), 1024 * 1024 * 1024),
      /** Let `send.mediaUrl` (and the agent's MEDIA: URLs) reach loopback, link-local, private and unique-local addresses. */
      allowPrivateUrls: v.optional(v.boolean(), false),
      /** Host names, IP addresses or CIDR ranges a media URL may reach even when internal. */
      allowUrlHosts: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
    }),
    {},
  ),
  gateway: v.optional(GatewayConfigSchema, {}),
  webchat: v.optional(
    v.strictObject({
      enabled: v.optional(v.boolean(), true),
      port: v.optional(Port, DEFAULT_WEBCHAT_PORT),
    }),
    {},
  ),
  agent: v.optional(
    v.strictObject({
      /** Unset: `openai` when OPENAI_API_KEY is set, else `echo`. */
      backend: v.optional(v.picklist(["echo", "openai", "command"])),
      timeoutMs: v.optional(int(1, 86_400_000), 600_000),
      maxConcurrent: v.optional(int(1, 256), 4),
      /** Past turns (user + assistant pairs) sent with each openai request. */
      historyTurns: v.optional(int(0, 1_000), 20),
      openai: v.optional(
        v.strictObject({
          baseUrl: v.optional(v.pipe(v.string(), v.url()), "https://api.openai.com/v1"),
          model: v.optional(v.pipe(v.string(), v.minLength(1)), "gpt-4o-mini"),
          apiKeyEnv: v.optional(v.pipe(v.string(), v.minLength(1)), "OPENAI_API_KEY"),
          systemPrompt: v.optional(v.string()),
          temperature: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(2))),
        }),
        {},
      ),
      /** argv for the `command` backend; `{{message}}`, `{{sessionId}}`, `{{sessionUuid}}`, `{{isNewSession}}`, `{{to}}`, `{{thinking}}`, `{{media}}` are filled in. Never run through a shell. */
      command: v.optional(v.pipe(v.array(v.string()), v.minLength(1))),
      commandCwd: v.optional(v.string()),
      /** argv for a session's first turn (e.g. `--session-id {{sessionUuid}}`); `command` is used for the rest. */
      commandFirstTurn: v.optional(v.pipe(v.array(v.string()), v.minLength(1))),
      /** "history-json": the session's last `historyTurns` turns and the new message as JSON on the child's stdin. */
      commandInput: v.optional(v.picklist(["none", "history-json"]), "none"),
      /** Tell the agent who wrote, in which chat, when (openai: in the user message; command: `{{context}}`). */
      inboundHeader: v.optional(v.boolean(), true),
      /** Folders whose files a reply's `MEDIA: <path>` line may send; none by default (paths refused). */
      mediaDirs: v.optional(v.array(v.pipe(v.string(), v.minLength(1))), []),
      /** An OpenAI-compatible `/audio/transcriptions` endpoint: voice notes reach the agent as `[voice] <text>`. */
      transcribe: v.optional(
        v.strictObject({
          baseUrl: v.pipe(v.string(), v.url()),
          model: v.optional(v.pipe(v.string(), v.minLength(1)), "whisper-1"),
          apiKeyEnv: v.optional(v.pipe(v.string(), v.minLength(1)), "OPENAI_API_KEY"),
        }),
      ),
      /** Model requests of one run that may ask for tools; past it the run ends `error`. */
      maxToolRounds: v.optional(int(1, 100), 8),
      mcp: Mcp,
    }),
    {},
  ),
});

export type Config = v.InferOutput<typeof ConfigSchema>;
export type GatewayConfig = Config["gateway"];
