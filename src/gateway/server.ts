import { existsSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { isAddrInUse, urlHost } from "../core/net.ts";
import { createBackend } from "../agent/backends/index.ts";
import { Delivery, TELEGRAM_MAX_CAPTION_CHARS, TELEGRAM_MAX_CHARS } from "../delivery/index.ts";
import { InboundGate, PairingStore } from "../inbound/index.ts";
import { InboundMediaStore } from "../media/index.ts";
import { AgentRunner } from "../agent/runner.ts";
import { SessionStore } from "../agent/sessions.ts";
import type { AgentBackend } from "../agent/types.ts";
import type { Config } from "../config/schema.ts";
import type { LoadedConfig } from "../config/load.ts";
import type { ReloadPlan } from "../config/reload.ts";
import { watchConfigFile } from "../config/watch.ts";
import { GatewayCounters } from "../metrics/counters.ts";
import { createRegistry } from "../metrics/exposition.ts";
import { mountMetrics } from "../metrics/http.ts";
import type { Registry } from "prom-client";
import { mountGateway } from "../http/app.ts";
import { silentLogger, type Logger } from "../log.ts";
import { statePaths } from "../paths.ts";
import { CloseCode, PROVIDERS, type AgentFinal, type ShutdownEvent } from "../protocol/index.ts";
import { Providers } from "../providers/index.ts";
import { createAdapter, type Listening, type RuntimeName } from "../runtime/index.ts";
import { COMMIT, VERSION } from "../version.ts";
import { AuthLimiter } from "./auth-limit.ts";
import { Broadcaster } from "./broadcast.ts";
import { Connection, type ConnectionRegistry } from "./connection.ts";
import type { GatewayContext } from "./context.ts";
import { Dedupe } from "./dedupe.ts";
import { listenersOnPort } from "./force.ts";
import { HealthState } from "./health.ts";
import { IdempotencyStore } from "./idempotency.ts";
import { Journal } from "./journal.ts";
import { Ledger } from "./ledger.ts";
import { RunRegistry } from "./runs.ts";
import { acquireLock } from "./lock.ts";
import { handleInbound, resumeInbound } from "./inbound.ts";
import { PendingInboundStore } from "./inbound-pending.ts";
import { LiveConfig } from "./live-config.ts";
import { Presence } from "./presence.ts";
import { SessionsSummary } from "./sessions-summary.ts";
import type { ProviderDeps } from "../providers/index.ts";

/** A start-up failure with a message meant for the operator. */
export class GatewayStartError extends Error {}

export interface GatewayOptions {
  config: Config;
  stateDir: string;
  log?: Logger;
  runtime?: RuntimeName;
  providers?: Providers;
  agentBackend?: AgentBackend;
  /** Take the state-dir lock (default true). */
  lock?: boolean;
  /**
   * Where the config came from, for live reloads (SIGHUP, `config.reload`, the watched file):
   * `load` re-reads it with the start-up precedence; `watch` is the file to watch (absent: no watcher).
   */
  configSource?: { loaded: LoadedConfig; load: () => LoadedConfig; watch?: string };
  /** After a reload is in force (the CLI updates what lives outside the gateway: WebChat, log level). */
  onReload?: (current: Config, previous: Config, plan: ReloadPlan) => void;
  /** WhatsApp overrides: the socket-factory seam (tests inject a fake peer), URL, backoff. */
  whatsapp?: Omit<import("../providers/whatsapp/index.ts").WhatsAppOptions, "credsDir">;
}

export interface Gateway {
  readonly ctx: GatewayContext;
  /** Bind and serve; resolves with the bound port. */
  start(): Promise<{ port: number; url: string }>;
  /** Emit `shutdown`, close every client, stop serving. Idempotent. */
  stop(reason: string, restartExpectedMs?: number): Promise<void>;
}

function primaryIp(fallback: string): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return fallback;
}

function describePortHolder(port: number): string {
  try {
    const holders = listenersOnPort(port);
    return holders.length > 0 ? ` (held by ${holders.map((h) => `pid ${h.pid} ${h.command}`).join(", ")})` : "";
  } catch {
    return "";
  }
}

/** Compose the gateway from its parts. Nothing is bound until `start()`. */
export function createGateway(opts: GatewayOptions): Gateway {
  // `config` is the start-up config (ports, providers, bounds built once); `ctx.config` is the one in force.
  const { config } = opts;
  const log = opts.log ?? silentLogger;
  const counters = new GatewayCounters();
  let runtimeName = "unknown";
  const startedAt = Date.now();
  const host = hostname();
  const ip = primaryIp(config.gateway.bind);
  const journal = new Journal(config.gateway.journal);
  const broadcaster = new Broadcaster(journal, config.gateway.maxBufferedTotalBytes, (event, sent, missed, droppable) =>
    counters.broadcast(event, sent, missed, droppable),
  );
  const providers = opts.providers ?? new Providers();
  const connections = new Set<Connection>();
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
  const sessions = new SessionsSummary(statePaths(opts.stateDir).sessions);
  const agent = new AgentRunner({
    backend: opts.agentBackend ?? createBackend(config, log.child("agent")),
    log: log.child("agent"),
    onEvent: (event) => {
      if (event.stream === "lifecycle") sessions.touch();
      counters.agentEvent(event);
      broadcaster.broadcast("agent", event);
    },
    sessions: new SessionStore(statePaths(opts.stateDir).sessions, config.agent.historyTurns),
    maxConcurrent: config.agent.maxConcurrent,
  });
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
    prepare: (plan, previous) => {
      const next = plan.effective;
      const changed = (prefix: string) => plan.applied.some((k) => k === prefix || k.startsWith(`${prefix}.`));
      // Built before anything changes: a backend that cannot be made refuses the reload whole.
      const backendKeys = ["agent.backend", "agent.openai", "agent.command", "agent.commandCwd"];
      const backend = !opts.agentBackend && backendKeys.some(changed) ? createBackend(next, log.child("agent")) : undefined;
      return () => {
        if (backend || changed("agent.maxConcurrent")) {
          agent.reconfigure({ ...(backend ? { backend } : {}), maxConcurrent: next.agent.maxConcurrent });
        }
        if (changed("gateway.authFailuresPerMinute")) ctx.authLimiter.setMaxFailures(next.gateway.authFailuresPerMinute);
        if (changed("gateway.tickIntervalMs") && tickTimer) startTick();
        if (next.gateway.token !== previous.gateway.token && next.gateway.token !== undefined) {
          // Every open connection authenticated with the old token (or none): it is no longer good.
          // The connection that asked (config.reload) gets its answer first, then the same close.
          let closed = 0;
          for (const conn of [...connections]) {
            if (!conn.isOpen) continue;
            if (conn.connId === reloadCaller) setTimeout(() => conn.close(CloseCode.UNAUTHORIZED, "token rotated"), 0);
            else conn.close(CloseCode.UNAUTHORIZED, "token rotated");
            closed += 1;
          }
          log.warn(`gateway token rotated: the old token is refused; ${closed} connection(s) using it closed (4001)`);
        }
        opts.onReload?.(next, previous, plan);
      };
    },
    onAttempt: () => health.refresh(),
  });
  const ledger = new Ledger({ dir: statePaths(opts.stateDir).ledger, ...config.ledger, onTransition: (r) => counters.message(r) });
  const delivery: Delivery = new Delivery({
    ledger,
    providers,
    outboxDir: statePaths(opts.stateDir).outbox,
    // Read per send from the config in force: a reload applies to the next send.
    pacing: () => ({ whatsapp: ctx.config.whatsapp.pacing, telegram: ctx.config.telegram.pacing }),
    maxChars: () => ({ whatsapp: ctx.config.whatsapp.maxMessageChars, telegram: TELEGRAM_MAX_CHARS }),
    captionChars: { telegram: TELEGRAM_MAX_CAPTION_CHARS },
    log: log.child("delivery"),
    onQueueChange: () => health.refresh(),
  });
  const gate = new InboundGate((name) => ctx.config[name], new PairingStore(statePaths(opts.stateDir).pairing));

  const health: HealthState = new HealthState({
    providers,
    agentBackend: () => agent.backendName,
    config: () => live.health(),
    startedAt,
    tickIntervalMs: config.gateway.tickIntervalMs,
    sessions,
    queued: (name) => delivery.queued(name),
    lastSendAt: (name) => delivery.lastSendAt(name),
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
    inboundPending: new PendingInboundStore(statePaths(opts.stateDir).inboundPending),
    runRegistry: new RunRegistry(),
    authLimiter: new AuthLimiter({ maxFailures: config.gateway.authFailuresPerMinute, windowMs: 60_000 }),
    delivery,
    gate,
    idempotency: new IdempotencyStore(statePaths(opts.stateDir).idempotency, { agent: 5 * 60_000 }),
    runs: new Dedupe<{ runId: string; done: Promise<AgentFinal> }>(),
    clients: () => broadcaster.size,
    clientStats: { joined: 0, left: 0 },
    whatsapp: () => (whatsappProvider ??= createWhatsApp()),
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

  const inboundMedia = new InboundMediaStore(join(opts.stateDir, "media", "inbound"), () => ctx.config.media, () => ctx.config.agent.timeoutMs);
  const providerDeps = (name: string): ProviderDeps => ({
    stateDir: opts.stateDir,
    log: log.child(name),
    onInbound: (message) =>
      handleInbound(ctx, message).catch((err) => log.error("could not record an inbound message", { error: (err as Error).message })),
    onStatus: () => health.refresh(),
    media: inboundMedia,
  });
  let whatsappProvider: Promise<import("../providers/whatsapp/index.ts").WhatsAppProvider> | undefined;
  const createWhatsApp = async () => {
    const { WhatsAppProvider } = await import("../providers/whatsapp/index.ts");
    const wa = new WhatsAppProvider(
      {
        ...(config.whatsapp.waVersion ? { waVersion: config.whatsapp.waVersion } : {}),
        ...opts.whatsapp,
        credsDir: statePaths(opts.stateDir).whatsappCreds,
      },
      providerDeps("whatsapp"),
    );
    providers.add(wa);
    health.refresh();
    return wa;
  };
  /** Providers load lazily: no grammY without Telegram, no Baileys until WhatsApp is linked or linking. */
  const addConfiguredProviders = async () => {
    if (config.whatsapp.enabled && existsSync(join(statePaths(opts.stateDir).whatsappCreds, "creds.json"))) {
      await ctx.whatsapp();
    }
    const tg = config.telegram;
    if (tg.botToken) {
      const { TelegramProvider } = await import("../providers/telegram/index.ts");
      providers.add(
        new TelegramProvider(
          { botToken: tg.botToken, pollTimeoutS: tg.pollTimeoutS, sendTimeoutS: tg.sendTimeoutS, ...(tg.apiRoot ? { apiRoot: tg.apiRoot } : {}) },
          providerDeps("telegram"),
        ),
      );
    }
  };

  let listening: Listening | null = null;
  let lock: ReturnType<typeof acquireLock> | null = null;
  const timers: ReturnType<typeof setInterval>[] = [];
  let watcher: { close(): void } | null = null;
  let registry: Registry | null = null;
  let nextConn = 0;
  const connRegistry: ConnectionRegistry = {
    // Sockets that have not said hello yet are cheap to open: cap them (the live limit).
    admit: (conn) => {
      if (connections.size - broadcaster.size >= ctx.config.gateway.maxPendingHandshakes) return false;
      connections.add(conn);
      return true;
    },
    gone: (conn) => connections.delete(conn),
  };
  const connPrefix = `${process.pid.toString(36)}-${startedAt.toString(36)}`;

  return {
    ctx,
    async start() {
      const paths = statePaths(opts.stateDir);
      if (opts.lock !== false) lock = acquireLock(paths.lock, { port: config.gateway.port, bind: config.gateway.bind });
      try {
        const app = new Hono();
        const adapter = await createAdapter(app, opts.runtime);
        runtimeName = adapter.name;
        mountMetrics(app, {
          token: () => ctx.config.gateway.token,
          remoteAddress: (c) => adapter.remoteAddress(c),
          registry: () =>
            (registry ??= createRegistry({
              counters,
              build: { version: VERSION, commit: COMMIT, runtime: runtimeName },
              startedAt,
              providers: PROVIDERS,
              providerConnected: (p) => providers.status(p as (typeof PROVIDERS)[number]).connected,
              // The pacing queues' lengths (the same numbers as health.<provider>.queued).
              sendQueueLength: (p) => delivery.queued(p as (typeof PROVIDERS)[number]),
            })),
        });
        mountGateway(app, adapter, {
          allowedOrigins: () => ctx.config.gateway.allowedOrigins,
          onRefused: (remote, origin) => log.warn("refused browser origin", { remote, origin }),
          accept: (remote, origin) => {
            if (shuttingDown) return null;
            return new Connection(ctx, `${connPrefix}-${(++nextConn).toString(36)}`, remote, origin, connRegistry);
          },
        });
        try {
          listening = await adapter.listen({
            hostname: config.gateway.bind,
            port: config.gateway.port,
            maxPayload: config.gateway.maxPayload,
          });
        } catch (err) {
          if (isAddrInUse(err)) {
            throw new GatewayStartError(
              `port ${config.gateway.port} on ${config.gateway.bind} is already in use${describePortHolder(config.gateway.port)}: ` +
                `stop that process, pick another --port, or run \`clawdis gateway --force\``,
            );
          }
          throw new GatewayStartError(`cannot listen on ${config.gateway.bind}:${config.gateway.port}: ${(err as Error).message}`);
        }
        lock?.update({ port: listening.port });
        timers.push(
          // One info line a minute about client churn; each connect/disconnect is a debug record.
          setInterval(() => {
            const { joined, left } = ctx.clientStats;
            if (joined === 0 && left === 0) return;
            log.info(`clients: ${broadcaster.size} connected (+${joined} −${left} in the last minute)`);
            ctx.clientStats.joined = ctx.clientStats.left = 0;
          }, 60_000),
        );
        startTick();
        if (opts.configSource?.watch && config.gateway.watchConfig) {
          try {
            watcher = watchConfigFile(opts.configSource.watch, () => live.lastSeenHash, () => live.reload("config file changed"));
          } catch (err) {
            log.warn(`config file not watched (${(err as Error).message}); reload with SIGHUP or \`clawdis gateway reload\``);
          }
        }
        if (!opts.providers) await addConfiguredProviders();
        health.refresh();
        // Taken before any provider delivers: only what the last run left behind.
        void resumeInbound(ctx).catch((err) => log.error("could not resume unanswered messages", { error: (err as Error).message }));
        await providers.start((name, err) => log.error(`${name}: failed to start`, { error: (err as Error).message }));
        delivery.resume();
        const url = `ws://${urlHost(config.gateway.bind)}:${listening.port}`;
        log.info(`listening on ${url}`, {
          runtime: adapter.name,
          version: VERSION,
          commit: COMMIT,
          auth: config.gateway.token ? "token" : "none",
          agent: agent.backendName,
        });
        log.info(
          agent.backendName === "echo"
            ? "agent backend: echo (replies with the message; set agent.backend or OPENAI_API_KEY for a real assistant)"
            : `agent backend: ${agent.backendName}`,
        );
        return { port: listening.port, url };
      } catch (err) {
        lock?.release();
        lock = null;
        throw err;
      }
    },
    stop(reason, restartExpectedMs) {
      stopping ??= (async () => {
        shuttingDown = true;
        for (const t of timers) clearInterval(t);
        if (tickTimer) clearInterval(tickTimer);
        watcher?.close();
        delivery.stop();
        presence.stop();
        // Runs in flight end first (final status "error", summary "shutdown"), then the event.
        agent.abortAll();
        // The whole run chain (delivery, idempotency record) settles, then its final res goes out.
        await ctx.runRegistry.settled(1_500);
        await new Promise((r) => setTimeout(r, 0));
        const payload: ShutdownEvent = { reason };
        if (restartExpectedMs !== undefined) payload.restartExpectedMs = restartExpectedMs;
        broadcaster.broadcast("shutdown", payload);
        for (const conn of [...connections]) conn.close(CloseCode.GOING_AWAY, `gateway shutting down: ${reason}`);
        // Let the kernel take the queued shutdown/close frames before sockets are torn down.
        await new Promise((r) => setTimeout(r, 150));
        const closing = listening?.close() ?? Promise.resolve();
        await Promise.race([closing, new Promise((r) => setTimeout(r, 2_000))]);
        await providers.stop();
        log.info("gateway stopped", { reason });
        lock?.release();
        lock = null;
      })();
      return stopping;
    },
  };
}
