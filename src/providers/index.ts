import { GatewayError, type ProviderName, type SendParams } from "../protocol/index.ts";
import type { Provider, ProviderStatus } from "./types.ts";

export type { InboundMessage, Provider, ProviderDeps, ProviderSendParams, ProviderStatus } from "./types.ts";

const HOW_TO_LINK: Record<ProviderName, string> = {
  whatsapp: "WhatsApp is not linked — run clawdis login",
  telegram: "Telegram is not configured — set telegram.botToken (or TELEGRAM_BOT_TOKEN)",
};

const OFFLINE: ProviderStatus = { linked: false, connected: false };

/** The providers this gateway owns, and the routing of `send` between them. */
export class Providers {
  private readonly byName = new Map<ProviderName, Provider>();

  constructor(providers: Provider[] = []) {
    for (const p of providers) this.byName.set(p.name, p);
  }

  add(provider: Provider): void {
    this.byName.set(provider.name, provider);
  }

  status(name: ProviderName): ProviderStatus {
    return this.byName.get(name)?.status() ?? OFFLINE;
  }

  /** Show "typing…" in a chat of a provider; the returned function stops it (a no-op where unsupported). */
  typing(name: ProviderName, chat: string): () => void {
    return this.byName.get(name)?.typing?.(chat) ?? (() => {});
  }

  /** Mark a received message read, where the provider can (WhatsApp). */
  markRead(name: ProviderName, chat: string, messageId: string): void {
    this.byName.get(name)?.markRead?.(chat, messageId);
  }

  /** Names of providers that can send right now. */
  linked(): ProviderName[] {
    // A loop, not spread/filter/map: `status` reads this on every request.
    const names: ProviderName[] = [];
    for (const p of this.byName.values()) if (p.status().linked) names.push(p.name);
    return names;
  }

  /** Start every provider; one that fails to start is reported, never fatal. */
  async start(onError: (name: ProviderName, err: unknown) => void): Promise<void> {
    await Promise.all([...this.byName.values()].map((p) => p.start().catch((err) => onError(p.name, err))));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.byName.values()].map((p) => p.stop()));
  }

  /** Route to the named provider, else WhatsApp if linked, else Telegram. Throws before anything is sent. */
  route(params: SendParams): Provider {
    const name = params.provider ?? (this.status("whatsapp").linked ? "whatsapp" : "telegram");
    const provider = this.byName.get(name);
    const status = provider?.status() ?? OFFLINE;
    if (!provider || !status.linked) {
      const message = params.provider
        ? HOW_TO_LINK[name]
        : `${HOW_TO_LINK.whatsapp} (or set telegram.botToken and send with provider "telegram")`;
      throw new GatewayError("NOT_LINKED", message, { details: { provider: params.provider ?? null } });
    }
    if (!(status.sendable ?? status.connected)) {
      // Stopped for good (replaced, banned…): nothing to wait for.
      const { stopped, action } = status.detail ?? {};
      if (typeof stopped === "string") {
        throw new GatewayError("UNAVAILABLE", `${name} is not connected: ${stopped}${action ? ` — ${action}` : ""}`, { retryable: false, details: { provider: name } });
      }
      throw new GatewayError("UNAVAILABLE", `${name} is reconnecting; try again shortly`, {
        retryable: true,
        retryAfterMs: 2_000,
        // Which provider it would have been: delivery queues the send for it and waits.
        details: { provider: name },
      });
    }
    return provider;
  }
}
