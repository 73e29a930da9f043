import type { Health } from "../protocol/index.ts";
import type { Providers } from "../providers/index.ts";

/**
 * The cached health snapshot. Reading it never probes anything (so `hello-ok` is
 * never delayed); `refresh()` re-reads provider status and reports a change.
 */
export class HealthState {
  private core: Pick<Health, "ok" | "web" | "telegram" | "agent" | "config">;
  private key: string;
  private _version = 1;

  constructor(
    private readonly deps: {
      providers: Providers;
      agentBackend: string | (() => string);
      /** The loaded config file (`health.config`), read at each refresh. */
      config?: () => Health["config"];
      startedAt: number;
      now?: () => number;
      onChange?: (health: Health, version: number) => void;
    },
  ) {
    this.core = this.compute();
    this.key = JSON.stringify(this.core);
  }

  get version(): number {
    return this._version;
  }

  snapshot(): Health {
    const ts = (this.deps.now ?? Date.now)();
    return { ...this.core, ts, uptimeMs: Math.max(0, ts - this.deps.startedAt) } as Health;
  }

  /** Re-read provider status; bump the version and notify when anything changed. */
  refresh(): void {
    const next = this.compute();
    const key = JSON.stringify(next);
    if (key === this.key) return;
    this.core = next;
    this.key = key;
    this._version += 1;
    this.deps.onChange?.(this.snapshot(), this._version);
  }

  private compute(): Pick<Health, "ok" | "web" | "telegram" | "agent" | "config"> {
    const web = this.deps.providers.status("whatsapp");
    const telegram = this.deps.providers.status("telegram");
    return {
      ok: true,
      web: {
        linked: web.linked,
        connected: web.connected,
        ...(web.authAgeMs !== undefined ? { authAgeMs: web.authAgeMs } : {}),
        ...web.detail,
      },
      telegram: { configured: telegram.linked, connected: telegram.connected, ...telegram.detail },
      agent: { backend: typeof this.deps.agentBackend === "function" ? this.deps.agentBackend() : this.deps.agentBackend },
      ...(this.deps.config ? { config: this.deps.config() } : {}),
    };
  }
}
