import type { Health, ProviderName } from "../protocol/index.ts";
import type { Providers } from "../providers/index.ts";
import type { DiskFull } from "../store/disk-full.ts";
import type { SessionsSummary } from "./sessions-summary.ts";

type Core = Pick<Health, "ok" | "web" | "telegram" | "agent" | "config" | "disk">;

/** Fields that move with the clock alone (`web.authAgeMs` grows every tick while linked): reported, never a change. */
const TIME_DERIVED = new Set(["authAgeMs"]);
/** What counts as a change: the snapshot without its time-derived fields. */
const changeKey = (core: Core) => JSON.stringify(core, (k, v) => (TIME_DERIVED.has(k) ? undefined : v));

/**
 * The cached health snapshot. Reading it never probes anything (so `hello-ok` is
 * never delayed); `refresh()` re-reads provider status and reports a change.
 */
export class HealthState {
  private core: Core;
  private key: string;
  private _version = 1;
  /** How long the last build of the snapshot took (ms). */
  private durationMs = 0;

  constructor(
    private readonly deps: {
      providers: Providers;
      agentBackend: string | (() => string);
      /** Each MCP server's state (`agent.mcp`); undefined when none is configured. */
      agentMcp?: () => Health["agent"]["mcp"];
      /** The loaded config file (`health.config`), read at each refresh. */
      config?: () => Health["config"];
      startedAt: number;
      /** The tick interval, reported as `heartbeatSeconds`. */
      tickIntervalMs: number;
      /** The agent session store's summary; reported as `sessions`, not a change by itself. */
      sessions: SessionsSummary;
      /** Sends waiting in a provider's pacing queue. */
      queued?: (provider: ProviderName) => number;
      /** When a provider last accepted a send. */
      lastSendAt?: (provider: ProviderName) => number | undefined;
      /** Sends of a provider waiting for a retry after a transient error. */
      retrying?: (provider: ProviderName) => number;
      /** The state dir's disk, while it is full (`health.ok` is false meanwhile). */
      disk?: () => DiskFull | null;
      now?: () => number;
      onChange?: (health: Health, version: number) => void;
    },
  ) {
    this.core = this.compute();
    this.key = changeKey(this.core);
    void deps.sessions.refresh();
  }

  get version(): number {
    return this._version;
  }

  snapshot(): Health {
    const ts = (this.deps.now ?? Date.now)();
    return {
      ...this.core,
      ts,
      uptimeMs: Math.max(0, ts - this.deps.startedAt),
      durationMs: this.durationMs,
      heartbeatSeconds: this.deps.tickIntervalMs / 1000,
      sessions: this.deps.sessions.get(),
    } as Health;
  }

  /** Re-read provider status; bump the version and notify when anything changed. */
  refresh(): void {
    void this.deps.sessions.refresh();
    // The snapshot always carries the fresh values; only a real change bumps the version and goes out.
    this.core = this.compute();
    const key = changeKey(this.core);
    if (key === this.key) return;
    this.key = key;
    this._version += 1;
    this.deps.onChange?.(this.snapshot(), this._version);
  }

  /** The delivery side of a provider's health: its queue, the sends in it waiting for a retry, and its last send. */
  private sends(provider: ProviderName): { queued: number; retrying: number; lastSendAt?: number } {
    const last = this.deps.lastSendAt?.(provider);
    return { queued: this.deps.queued?.(provider) ?? 0, retrying: this.deps.retrying?.(provider) ?? 0, ...(last !== undefined ? { lastSendAt: last } : {}) };
  }

  private mcp(): { mcp?: NonNullable<Health["agent"]["mcp"]> } {
    const mcp = this.deps.agentMcp?.();
    return mcp ? { mcp } : {};
  }

  private compute(): Core {
    const started = performance.now();
    const web = this.deps.providers.status("whatsapp");
    const telegram = this.deps.providers.status("telegram");
    const core: Core = {
      ok: true,
      web: {
        linked: web.linked,
        connected: web.connected,
        // Old readers print it: always present, `null` when not linked.
        authAgeMs: web.authAgeMs ?? null,
        ...web.detail,
        ...this.sends("whatsapp"),
      },
      telegram: { configured: telegram.linked, connected: telegram.connected, ...telegram.detail, ...this.sends("telegram") },
      agent: { backend: typeof this.deps.agentBackend === "function" ? this.deps.agentBackend() : this.deps.agentBackend, ...this.mcp() },
      ...(this.deps.config ? { config: this.deps.config() } : {}),
    };
    const disk = this.deps.disk?.();
    if (disk) Object.assign(core, { ok: false, disk: { full: true, ...disk } });
    this.durationMs = Math.round(performance.now() - started);
    return core;
  }
}
