import type { Health, ProviderName } from "../protocol/index.ts";
import type { Providers } from "../providers/index.ts";

/**
 * The cached health snapshot. Reading it never probes anything (so `hello-ok` is
 * never delayed); `refresh()` re-reads provider status and reports a change.
 */
export class HealthState {
  private core: Pick<Health, "ok" | "web" | "telegram" | "agent">;
  private key: string;
  private _version = 1;

  constructor(
    private readonly deps: {
      providers: Providers;
      agentBackend: string;
      startedAt: number;
      /** Sends waiting in a provider's pacing queue. */
      queued?: (provider: ProviderName) => number;
      /** When a provider last accepted a send. */
      lastSendAt?: (provider: ProviderName) => number | undefined;
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

  /** The delivery side of a provider's health: its queue and its last send. */
  private sends(provider: ProviderName): { queued: number; lastSendAt?: number } {
    const last = this.deps.lastSendAt?.(provider);
    return { queued: this.deps.queued?.(provider) ?? 0, ...(last !== undefined ? { lastSendAt: last } : {}) };
  }

  private compute(): Pick<Health, "ok" | "web" | "telegram" | "agent"> {
    const web = this.deps.providers.status("whatsapp");
    const telegram = this.deps.providers.status("telegram");
    return {
      ok: true,
      web: {
        linked: web.linked,
        connected: web.connected,
        ...(web.authAgeMs !== undefined ? { authAgeMs: web.authAgeMs } : {}),
        ...web.detail,
        ...this.sends("whatsapp"),
      },
      telegram: { configured: telegram.linked, connected: telegram.connected, ...telegram.detail, ...this.sends("telegram") },
      agent: { backend: this.deps.agentBackend },
    };
  }
}
