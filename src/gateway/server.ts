import { hostname } from "node:os";
import { primaryIp, urlHost } from "../core/net.ts";
import { Delivery, ErrorReplies, TELEGRAM_MAX_CAPTION_CHARS, TELEGRAM_MAX_CHARS } from "../delivery/index.ts";
import { loadMarkdown } from "../delivery/format/index.ts";
import { InboundFlow, InboundGate, PairingStore, TurnContext } from "../inbound/index.ts";
import { transcribeOptions } from "../agent/transcribe.ts";
import { InboundMediaStore } from "../media/index.ts";
import { SessionStore } from "../agent/sessions.ts";
import { watchConfigFile } from "../config/watch.ts";
import { GatewayCounters } from "../metrics/counters.ts";
import { silentLogger } from "../log.ts";
import { statePaths } from "../paths.ts";
import { Providers } from "../providers/index.ts";
import { serveApp, type Listening } from "../runtime/index.ts";
import { COMMIT, VERSION } from "../version.ts";
import { AuthLimiter } from "../core/auth-limit.ts";
import { Broadcaster } from "./broadcast.ts";
import { agentSetup } from "./agent-setup.ts";
import { logClientChurn, logStarted } from "./log-lines.ts";
import { Connections } from "./connections.ts";
import { shutdown } from "./shutdown.ts";
import type { GatewayContext } from "./context.ts";
import { HealthState } from "./health.ts";
import { Journal } from "./journal.ts";
import { Ledger } from "./ledger.ts";
import { acquireLock } from "./lock.ts";
import { handleInbound, resumeInbound } from "./inbound.ts";
import { PendingInboundStore } from "./inbound-pending.ts";
import { DiskWatch } from "../store/disk-full.ts";
import { diskChanged, InboundHold } from "./disk-hold.ts";
import { AgentRuns, IdempotencyStore } from "../runs/index.ts";
import { LiveConfig } from "./live-config.ts";
import { listenOrExplain } from "./listen.ts";
import { mountHttp } from "./http-mount.ts";
import { providerSetup } from "./provider-setup.ts";
import { reloadApplier } from "./reload-apply.ts";
import type { Gateway, GatewayOptions } from "./options.ts";
import { Presence } from "./presence.ts";
import { startMark } from "../core/start-trace.ts";
import { fullCollector } from "../runtime/collect.ts";
import { Reclaim } from "./reclaim.ts";
import { SessionsSummary } from "./sessions-summary.ts";

export { GatewayStartError } from "./listen.ts";
export type { Gateway, GatewayOptions } from "./options.ts";

/** Compose the gateway from its parts. Nothing is bound until `start()`. */
export function createGateway(opts: GatewayOptions): Gateway {
  // `config` is the start-up config (ports, providers, bounds built once); `ctx.config` is the one in force.
  const { config } = opts;
  const log = opts.log ?? silentLogger;
  const counters = new GatewayCounters();
  const startedAt = Date.now();
  const host = hostname();
  const ip = primaryIp(config.gateway.bind);
  const paths = statePaths(opts.stateDir);
  const journal = new Journal(config.gateway.journal);
  const broadcaster = new Broadcaster(journal, config.gateway.maxBufferedTotalBytes, (event, sent, missed, droppable) =>
    counters.broadcast(event, sent, missed, droppable),
  );
  const providers = opts.providers ?? new Providers();
  const connections = new Connections(() => ctx.config.gateway.maxPendingHandshakes, startedAt);
  let shuttingDown = false;
  let stopping: Promise<void> | null = null;

  const presence: Presence = new Presence({
    ttlMs: config.gateway.presenceTtlMs,
    maxEntries: config.gateway.presenceMaxEntries,
    coalesceMs: config.gateway.presenceCoalesceMs,
    // Deltas for clients that announced `presence-deltas`, the whole list (the runbook's shape) for the rest.
    // The full list is read when it is needed: at once while a caps-less client is connected,
    // else only if one resumes (the journal keeps the newest; nothing newer has been flushed).
    publish: (delta) =>
      broadcaster.broadcast("presence", delta, { stateVersion: ctx.stateVersion(), droppable: true }, () => ({ presence: presence.list() })),
  });
  const sessions = new SessionsSummary(paths.sessions);
  const sessionStore = new SessionStore(paths.sessions, config.agent.historyTurns, (note) => log.warn(note));
  // `health` is read late: an MCP server changes state only after start.
  const { agent, mcp } = agentSetup({ config, log, ...(opts.agentBackend ? { backend: opts.agentBackend } : {}), sessionStore, sessions, counters, broadcaster, onMcpChange: () => health.refresh() });
  let tickTimer: ReturnType<typeof setInterval> | null = null;
  let reloadCaller: string | undefined;
  const startTick = () => {
    if (tickTimer) clearInterval(tickTimer);
    tickTimer = setInterval(() => {
      broadcaster.broadcast("tick", { ts: Date.now() }, { seq: false, droppable: true });
      presence.sweep();
      health.refresh();
    }, live.current.gateway.tickIntervalMs);
  };
  const live: LiveConfig = new LiveConfig({
    initial: opts.configSource?.loaded ?? { config, file: null, hash: null },
    ...(opts.configSource ? { load: opts.configSource.load } : {}),
    log,
    prepare: reloadApplier({
      log,
      agent,
      fixedBackend: opts.agentBackend !== undefined,
      mcp,
      authLimiter: () => ctx.authLimiter,
      restartTick: () => {
        if (tickTimer) startTick();
      },
      connections: () => connections.all(),
      reloadCaller: () => reloadCaller,
      ...(opts.onReload ? { onReload: opts.onReload } : {}),
    }),
    onAttempt: () => health.refresh(),
  });
  const disk = new DiskWatch({ dir: opts.stateDir, onChange: (full) => diskChanged(ctx, full) });
  const warn = (note: string) => log.warn(note);
  const ledger = new Ledger({ dir: paths.ledger, ...config.ledger, onTransition: (r) => counters.message(r), onRepair: warn, onWriteError: (e) => disk.note(e) });
  const delivery: Delivery = new Delivery({
    ledger,
    providers,
    outboxDir: paths.outbox,
    // Read per send from the config in force: a reload applies to the next send.
    pacing: () => ({ whatsapp: ctx.config.whatsapp.pacing, telegram: ctx.config.telegram.pacing }),
    maxChars: () => ({ whatsapp: ctx.config.whatsapp.maxMessageChars, telegram: TELEGRAM_MAX_CHARS }),
    captionChars: { telegram: TELEGRAM_MAX_CAPTION_CHARS },
    format: () => ({ whatsapp: ctx.config.whatsapp.format, telegram: ctx.config.telegram.format }),
    mediaDirs: () => ctx.config.agent.mediaDirs,
    mediaUrls: () => ctx.config.media,
    log: log.child("delivery"),
    onQueueChange: () => health.refresh(),
    retryWindowMs: () => ctx.config.delivery.retryWindowMs,
    maxQueuedAgeMs: () => ctx.config.delivery.maxQueuedAgeMs,
  });
  const gate = new InboundGate((name) => ctx.config[name], new PairingStore(paths.pairing, undefined, warn));

  const health: HealthState = new HealthState({
    providers,
    agentBackend: () => agent.backendName,
    agentMcp: () => mcp.health(),
    config: () => live.health(),
    startedAt,
    tickIntervalMs: config.gateway.tickIntervalMs,
    sessions,
    queued: (name) => delivery.queued(name),
    lastSendAt: (name) => delivery.lastSendAt(name),
    retrying: (name) => delivery.retrying(name),
    disk: () => disk.full,
    onChange: (snapshot) => broadcaster.broadcast("health", snapshot, { stateVersion: ctx.stateVersion() }),
  });

  const ctx: GatewayContext = {
    get config() {
      return live.current;
    },
    log,
    host,
    ip,
    startedAt,
    build: { version: VERSION, commit: COMMIT },
    presence,
    health,
    providers,
    agent,
    broadcaster,
    journal,
    ledger,
    inboundPending: new PendingInboundStore(paths.inboundPending, warn),
    disk,
    inboundHold: new InboundHold(),
    turnContext: new TurnContext({
      historyLines: (p) => ctx.config[p].groups.historyLines,
      transcribe: () => transcribeOptions(ctx.config.agent.transcribe),
      log: log.child("inbound"),
    }),
    inboundFlow: new InboundFlow(() => ctx.config.inbound),
    agentRuns: new AgentRuns({
      agent,
      deliver: delivery.deliver.bind(delivery),
      idempotency: new IdempotencyStore(paths.idempotency, { agent: 5 * 60_000 }, undefined, undefined, warn),
      defaultTimeoutMs: () => ctx.config.agent.timeoutMs,
    }),
    authLimiter: new AuthLimiter({ maxFailures: config.gateway.authFailuresPerMinute, windowMs: 60_000 }),
    delivery,
    errorReplies: ErrorReplies.fromConfig(() => ctx.config.inbound, (params) => delivery.send(params), log.child("inbound")),
    gate,
    clients: () => broadcaster.size,
    clientStats: { joined: 0, left: 0 },
    reclaim: new Reclaim(fullCollector(), ({ chars, ms }) =>
      log.debug("collected garbage after a burst of large frames", { burstMiB: Math.round(chars / 1048576), ms: Math.round(ms), rssMiB: Math.round(process.memoryUsage.rss() / 1048576) }),
      undefined,
      undefined,
      () => broadcaster.listsWaiting > 0,
    ),
    whatsapp: () => setup.whatsapp(),
    shuttingDown: () => shuttingDown,
    stateVersion: () => ({ presence: presence.version, health: health.version }),
    metrics: counters,
    reloadConfig: (trigger, callerConnId) => {
      reloadCaller = callerConnId;
      try {
        return live.reload(trigger);
      } finally {
        reloadCaller = undefined;
      }
    },
  };

  presence.upsert(
    { host, ip, version: VERSION, mode: "gateway", instanceId: `gateway:${host}`, ts: startedAt, reason: "start" },
    true,
  );

  const setup = providerSetup({
    config,
    stateDir: opts.stateDir,
    log,
    providers,
    ...(opts.whatsapp ? { whatsapp: opts.whatsapp } : {}),
    // Returned, not dropped: a provider confirms a message upstream only once it is on disk.
    onInbound: (message) =>
      handleInbound(ctx, message).catch((err) => log.error("could not record an inbound message", { error: (err as Error).message })),
    onStatus: () => health.refresh(),
    media: new InboundMediaStore(paths.mediaInbound, () => ctx.config.media, () => ctx.config.agent.timeoutMs),
    mediaUrls: () => ctx.config.media,
  });

  let listening: Listening | null = null;
  let lock: ReturnType<typeof acquireLock> | null = null;
  const timers: ReturnType<typeof setInterval>[] = [];
  let watcher: { close(): void } | null = null;
  return {
    ctx,
    async start() {
      if (opts.lock !== false) lock = acquireLock(paths.lock, { port: config.gateway.port, bind: config.gateway.bind });
      try {
        const accept = (remote: string, origin: string | undefined) => (shuttingDown ? null : connections.accept(ctx, remote, origin));
        const adapter = await serveApp(mountHttp, { ctx, counters, providers, queued: (p) => delivery.queued(p), accept }, opts.runtime);
        startMark("runtime adapter ready");
        listening = await listenOrExplain(adapter, config.gateway);
        startMark("bound");
        lock?.update({ port: listening.port });
        timers.push(setInterval(() => logClientChurn(ctx, broadcaster.size), 60_000));
        startTick();
        if (opts.configSource?.watch && config.gateway.watchConfig) {
          try {
            watcher = watchConfigFile(opts.configSource.watch, () => live.lastSeenHash, () => live.reload("config file changed"));
          } catch (err) {
            log.warn(`config file not watched (${(err as Error).message}); reload with SIGHUP or \`clawdis gateway reload\``);
          }
        }
        sessionStore.scan(); // torn session lines are said at start, not when the chat next speaks
        if (agent.backendName === "openai") mcp.start();
        if (!opts.providers) await setup.addConfigured();
        health.refresh();
        // Taken before any provider delivers: only what the last run left behind.
        void resumeInbound(ctx).catch((err) => log.error("could not resume unanswered messages", { error: (err as Error).message }));
        await providers.start((name, err) => log.error(`${name}: failed to start`, { error: (err as Error).message }));
        delivery.resume();
        startMark("providers started, delivery resumed");
        const url = `ws://${urlHost(config.gateway.bind)}:${listening.port}`;
        logStarted(log, url, adapter.name, config, agent.backendName);
        // Not needed for the first client: loaded after (a send before that waits for it).
        setTimeout(() => loadMarkdown().catch((err) => log.error("could not load the Markdown renderer", { error: (err as Error).message })), 0);
        return { port: listening.port, url };
      } catch (err) {
        lock?.release();
        lock = null;
        throw err;
      }
    },
    stop(reason, restartExpectedMs) {
      shuttingDown = true;
      stopping ??= shutdown(
        {
          ctx, log, delivery, disk, presence, agent, broadcaster, providers, mcp,
          quiet: () => {
            for (const t of timers) clearInterval(t);
            if (tickTimer) clearInterval(tickTimer);
            ctx.reclaim.stop();
            watcher?.close();
          },
          // Walked when the shutdown closes them, not when it starts.
          connections: { [Symbol.iterator]: () => connections.all()[Symbol.iterator]() },
          listening: () => listening,
          releaseLock: () => {
            lock?.release();
            lock = null;
          },
        },
        reason,
        restartExpectedMs,
      );
      return stopping;
    },
  };
}
