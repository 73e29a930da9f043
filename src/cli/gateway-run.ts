import { clientWebSocket } from "../runtime/websocket.ts";
import { assertSafeBind, ConfigError, loadConfig } from "../config/load.ts";
import { configSecrets } from "../config/secrets.ts";
import { LockError } from "../gateway/lock.ts";
import { createGateway, GatewayStartError } from "../gateway/server.ts";
import { createLogger, type Logger } from "../log.ts";
import { resolveStateDir, statePaths } from "../paths.ts";
import { onSignal } from "../runtime/process.ts";
import type { Config } from "../config/schema.ts";
import type { WebChat } from "../webchat/server.ts";
import { CliExit, Exit } from "./errors.ts";
import { assertStateDirWritable } from "./state-dir.ts";
import { startMark } from "../core/start-trace.ts";

startMark("gateway modules imported");

export interface GatewayFlags {
  port?: number;
  bind?: string;
  token?: string;
  config?: string;
  verbose: boolean;
  force: boolean;
  /** WebChat port instead of `webchat.port` (0 = any free port). */
  webchatPort?: number;
}

/** Shutdown must finish within this, whatever hangs. */
const SHUTDOWN_DEADLINE_MS = 5_000;

export async function runGateway(flags: GatewayFlags): Promise<void> {
  const paths = statePaths(resolveStateDir());
  // The same sources and precedence at start-up and on every reload.
  const load = () =>
    loadConfig({
      defaultFile: paths.config,
      ...(flags.config !== undefined ? { explicitFile: flags.config } : {}),
      overrides: {
        ...(flags.port !== undefined ? { port: flags.port } : {}),
        ...(flags.bind !== undefined ? { bind: flags.bind } : {}),
        ...(flags.token !== undefined ? { token: flags.token } : {}),
      },
    });
  let loaded;
  try {
    loaded = load();
    assertSafeBind(loaded.config);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(Exit.USAGE, err.message);
    throw err;
  }
  const { config } = loaded;
  startMark("config read");
  assertStateDirWritable(paths.stateDir, paths.logDir);
  const log = createLogger({
    file: paths.gatewayLog,
    fileLevel: flags.verbose ? "debug" : config.gateway.logLevel,
    stdoutLevel: flags.verbose ? "debug" : "info",
    // Tokens, API keys behind apiKeyEnv, MCP headers and env: none reaches a log line.
    secrets: configSecrets(config, process.env),
  });
  log.info(`config: ${loaded.file ?? "none found, using embedded defaults"}`, { stateDir: paths.stateDir });

  if (flags.force && config.gateway.port !== 0) {
    // Only with --force: it loads node:child_process (lsof/fuser), which a plain start does not need.
    const { ForceError, freePort } = await import("../gateway/force.ts");
    try {
      await freePort(config.gateway.port, log);
    } catch (err) {
      if (err instanceof ForceError) throw new CliExit(Exit.FAILURE, err.message);
      throw err;
    }
  }

  let gateway;
  // `webchat` orders start, restarts and stop; `current` is the one serving now (null
  // while a token rotation restarts it), what `webchat.link` mints from.
  let webchat: Promise<RunningWebChat | null> = Promise.resolve(null);
  let current: RunningWebChat | null = null;
  try {
    gateway = createGateway({
      config,
      stateDir: paths.stateDir,
      log,
      configSource: { loaded, load, watch: flags.config ?? paths.config },
      onReload: (next, previous) => {
        if (!flags.verbose && next.gateway.logLevel !== previous.gateway.logLevel) log.setFileLevel(next.gateway.logLevel);
        // WebChat sessions end with the old token: its tabs are closed and its gateway link
        // comes back with the new token (same port).
        if (next.gateway.token !== previous.gateway.token) {
          webchat = webchat.then(async (old) => {
            if (!old) return null;
            await old.stop();
            // Same port as before (it may have been "any free port" the first time).
            current = null;
            const restarted = await startWebChat(next, paths.stateDir, gatewayPort, old.port, log);
            current = restarted;
            // startWebChat logged why it failed: say what that means for the operator.
            if (restarted) log.info("webchat restarted with the rotated token (its sessions ended)");
            else log.error("webchat is down after the token rotation (its old sessions ended); restart the gateway to bring it back");
            return restarted;
          });
        }
      },
    });
  } catch (err) {
    await log.close();
    if (err instanceof ConfigError) throw new CliExit(Exit.USAGE, err.message);
    throw err;
  }
  startMark("gateway composed");
  const starting = gateway.start();
  let gatewayPort = 0;
  // WebChat starts once the gateway listens; a signal during start-up waits for it too.
  webchat = starting
    .then(
      ({ port }) => ((gatewayPort = port), config.webchat.enabled ? startWebChat(config, paths.stateDir, port, flags.webchatPort, log) : null),
      () => null,
    )
    .then((w) => (current = w));
  // Signals are handled from the first moment: a supervisor may stop us while we bind.
  const shutdown = (reason: string) => {
    log.info(`received ${reason}, shutting down`);
    setTimeout(() => {
      log.warn(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms; exiting anyway`);
      process.exit(Exit.OK);
    }, SHUTDOWN_DEADLINE_MS);
    void webchat
      .then((w) => w?.stop())
      .then(() => gateway.stop(reason))
      .then(() => log.close())
      .finally(() => process.exit(Exit.OK));
  };
  onSignal("SIGTERM", () => shutdown("SIGTERM"));
  onSignal("SIGINT", () => shutdown("SIGINT"));
  // SIGHUP re-reads the config (the file is watched too; `clawdis gateway reload` asks over the socket).
  const gw = gateway;
  onSignal("SIGHUP", () => void starting.then(() => gw.ctx.reloadConfig("SIGHUP"), () => {}));
  try {
    await starting;
  } catch (err) {
    await log.close();
    if (err instanceof GatewayStartError || err instanceof LockError) throw new CliExit(Exit.FAILURE, err.message);
    throw err;
  }
  if (await webchat) {
    // Mints from whichever WebChat runs now (a token rotation restarts it on the same port).
    const { provideWebChatLink } = await import("../gateway/methods/webchat-link.ts");
    provideWebChatLink(gateway.ctx, () => {
      if (!current) throw new Error("WebChat is restarting after a token rotation; ask again in a moment");
      return current.signInLink();
    });
  }

  // Background work reports through the log; it never takes the daemon down.
  process.on("unhandledRejection", (reason) => {
    log.error("unhandled rejection", { error: reason instanceof Error ? reason.stack : String(reason) });
  });
}

/**
 * WebChat beside the gateway: the same bind (so the same loopback/token rule) and the
 * gateway's token for its one connection. It is an extra, so a failure (its port taken)
 * is logged and the gateway keeps running.
 */
type RunningWebChat = WebChat & { port: number };

async function startWebChat(
  config: Config,
  stateDir: string,
  gatewayPort: number,
  portFlag: number | undefined,
  log: Logger,
): Promise<RunningWebChat | null> {
  const port = portFlag ?? config.webchat.port;
  try {
    const { createWebChat, gatewayUrlFor, printSignInLink } = await import("../webchat/server.ts");
    const webchat = createWebChat({
      gatewayUrl: gatewayUrlFor(config.gateway.bind, gatewayPort),
      ...(config.gateway.token ? { token: config.gateway.token } : {}),
      stateDir,
      bind: config.gateway.bind,
      port,
      log: log.child("webchat"),
      WebSocket: await clientWebSocket(),
    });
    const { url, port: bound } = await webchat.start();
    log.info(`webchat on ${url}`);
    if (config.gateway.token) printSignInLink(webchat, log);
    return Object.assign(webchat, { port: bound });
  } catch (err) {
    log.error(`webchat not started (the gateway runs without it): ${(err as Error).message}`, { port });
    return null;
  }
}
