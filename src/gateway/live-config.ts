import { assertSafeBind, ConfigError, missingConfigMessage, tokenSourceName, type LoadedConfig, type TokenSource } from "../config/load.ts";
import { planReload, type ReloadPlan } from "../config/reload.ts";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { ConfigReloadResult, Health } from "../protocol/index.ts";

export interface LiveConfigOptions {
  initial: LoadedConfig;
  /** Re-read the config with the same precedence as at start-up; throws ConfigError. */
  load?: () => LoadedConfig;
  log: Logger;
  /**
   * Check the plan and return the function that puts it in force. Throwing a ConfigError
   * refuses the reload whole (e.g. an agent backend that cannot be built).
   */
  prepare(plan: ReloadPlan, previous: Config): () => void;
  /** After every attempt, applied or refused (health is refreshed and pushed). */
  onAttempt(): void;
}

/**
 * The config in force and its reloads. A new file is either applied whole (keys that need
 * a restart keep their running values and are named) or refused whole, never half.
 */
export class LiveConfig {
  private _current: Config;
  private readonly started: Config;
  private file: string | null;
  private hash: string | null;
  private loadedAt = Date.now();
  private restartRequired: string[] = [];
  private lastError: { at: number; problems: string[] } | undefined;
  private tokenSource: TokenSource | undefined;
  /** Why what is in force may not be what the file says (a token overridden by env/flag). */
  private warnings: string[] = [];
  /** Hash of the last file tried, so one edit seen twice by the watcher is one reload. */
  lastSeenHash: string | null;

  constructor(private readonly opts: LiveConfigOptions) {
    this._current = opts.initial.config;
    this.started = structuredClone(opts.initial.config);
    this.file = opts.initial.file;
    this.hash = this.lastSeenHash = opts.initial.hash;
    this.noteToken(opts.initial);
  }

  /** Record where the token comes from; warn (log + health) when the file's token is not the one in force. */
  private noteToken(loaded: LoadedConfig): void {
    this.tokenSource = loaded.tokenSource;
    const w = tokenOverrideWarning(loaded);
    this.warnings = w ? [w] : [];
    for (const line of this.warnings) this.opts.log.warn(`config: ${line}`);
  }

  get current(): Config {
    return this._current;
  }

  /** `health.config`. */
  health(): NonNullable<Health["config"]> {
    return {
      file: this.file,
      hash: this.hash,
      loadedAt: this.loadedAt,
      restartRequired: this.restartRequired,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.tokenSource ? { tokenSource: this.tokenSource } : {}),
      ...(this.warnings.length > 0 ? { warnings: this.warnings } : {}),
    };
  }

  reload(trigger: string): ConfigReloadResult {
    const log = this.opts.log;
    const refused = (problems: string[]): ConfigReloadResult => {
      this.lastError = { at: Date.now(), problems };
      log.error(`config reload (${trigger}) refused; the running config stays: ${problems.length} problem(s)`, { file: this.file });
      for (const p of problems) log.error(`  ${p}`);
      this.opts.onAttempt();
      return { applied: false, file: this.file, hash: this.hash, changed: [], restartRequired: this.restartRequired, problems };
    };
    if (!this.opts.load) return refused(["this gateway was started without a config source to re-read"]);
    let loaded: LoadedConfig;
    let plan: ReloadPlan;
    let commit: () => void;
    try {
      loaded = this.opts.load();
      // A file that vanished (moved aside, deleted by an editor's save, a dangling symlink) is
      // not "no config": reading defaults would drop the token. Refused like an invalid file.
      if (this.file !== null && loaded.file === null) throw new ConfigError(missingConfigMessage(this.file));
      this.lastSeenHash = loaded.hash;
      assertSafeBind(loaded.config);
      plan = planReload(this._current, loaded.config, this.started);
      assertSafeServe(plan.effective, loaded.config);
      commit = this.opts.prepare(plan, this._current);
    } catch (err) {
      // Anything else that goes wrong before the commit refuses the reload too: a reload
      // (from a signal or the watcher) must never take the daemon down.
      return refused(err instanceof ConfigError ? err.problems : [`unexpected error: ${(err as Error).message ?? String(err)}`]);
    }
    this._current = plan.effective;
    this.file = loaded.file;
    this.hash = loaded.hash;
    this.loadedAt = Date.now();
    this.restartRequired = plan.restartRequired;
    this.lastError = undefined;
    commit();
    this.noteToken(loaded);
    log.info(
      `config reloaded (${trigger}): ${plan.applied.length > 0 ? `applied ${plan.applied.join(", ")}` : "no change in force"}`,
      { file: loaded.file, hash: loaded.hash?.slice(0, 12) },
    );
    if (plan.restartRequired.length > 0) {
      log.warn(`config: restart required for ${plan.restartRequired.join(", ")} (running values kept until then)`);
    }
    this.opts.onAttempt();
    return {
      applied: true,
      file: loaded.file,
      hash: loaded.hash,
      changed: plan.applied,
      restartRequired: plan.restartRequired,
      ...(this.warnings.length > 0 ? { warnings: this.warnings } : {}),
    };
  }
}

/**
 * The bind/token rule on what will really be served: `gateway.bind` is restart-only, so a
 * file that moves to loopback and drops the token at once would otherwise leave the
 * running wide bind with no token until the restart.
 */
function assertSafeServe(effective: Config, file: Config): void {
  try {
    assertSafeBind(effective);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const running = effective.gateway.bind;
    throw new ConfigError(
      `gateway.token: the new config sets no token, but the gateway keeps listening on ${running} until a restart ` +
        `(gateway.bind${file.gateway.bind !== running ? ` ${file.gateway.bind}` : ""} takes effect only then), and ${running} is never served without a token. ` +
        `Keep gateway.token in the file until you have restarted on a loopback bind (or set CLAWDIS_GATEWAY_TOKEN / --token).`,
    );
  }
}

/**
 * The file sets a token that is not in force because the environment or a flag wins:
 * editing the file then rotates nothing, which must not pass silently. Never names a token.
 */
export function tokenOverrideWarning(loaded: LoadedConfig): string | undefined {
  if (loaded.fileTokenOverridden !== "different" || (loaded.tokenSource !== "env" && loaded.tokenSource !== "flag")) return undefined;
  const how =
    loaded.tokenSource === "env"
      ? "change CLAWDIS_GATEWAY_TOKEN where it is set (for a service from `clawdis gateway install`: gateway.env in the state dir) and restart the gateway"
      : "restart the gateway with the new --token";
  return (
    `gateway.token in ${loaded.file ?? "the config file"} is not the token in force: ${tokenSourceName(loaded.tokenSource)} overrides it, ` +
    `so editing the file does not rotate the token. To rotate: ${how}; or remove that override and keep the token in the file only, where a reload rotates it at once.`
  );
}
