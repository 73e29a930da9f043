import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { InboundMediaSink, UrlPolicy } from "../media/index.ts";
import { statePaths } from "../paths.ts";
import type { InboundMessage, ProviderDeps, Providers } from "../providers/index.ts";
import type { WhatsAppOptions, WhatsAppProvider } from "../providers/whatsapp/index.ts";

export interface ProviderSetupDeps {
  config: Config;
  stateDir: string;
  log: Logger;
  providers: Providers;
  /** WhatsApp overrides (tests inject a fake peer). */
  whatsapp?: Omit<WhatsAppOptions, "credsDir">;
  /** Resolves once the message is on disk (providers confirm upstream after it). */
  onInbound: (message: InboundMessage) => void | Promise<void>;
  /** Where inbound media is saved (bounded per file and in total). */
  media: InboundMediaSink;
  /** A provider's status changed, or one was added. */
  onStatus: () => void;
  /** What a send's mediaUrl may reach (the config in force). */
  mediaUrls?: () => UrlPolicy;
}

/**
 * Providers load lazily: no grammY without Telegram, no Baileys until WhatsApp is linked
 * or linking. `whatsapp()` creates the WhatsApp provider once, on first use.
 */
export function providerSetup(deps: ProviderSetupDeps) {
  const { config, stateDir, log, providers } = deps;
  const credsDir = statePaths(stateDir).whatsappCreds;
  const providerDeps = (name: string): ProviderDeps => ({
    stateDir,
    log: log.child(name),
    onInbound: deps.onInbound,
    onStatus: deps.onStatus,
    media: deps.media,
    ...(deps.mediaUrls ? { mediaUrls: deps.mediaUrls } : {}),
  });
  let whatsapp: Promise<WhatsAppProvider> | undefined;
  const createWhatsApp = async () => {
    const { WhatsAppProvider } = await import("../providers/whatsapp/index.ts");
    const options = { ...(config.whatsapp.waVersion ? { waVersion: config.whatsapp.waVersion } : {}), ...deps.whatsapp, credsDir };
    const wa = new WhatsAppProvider(options, providerDeps("whatsapp"));
    providers.add(wa);
    deps.onStatus();
    return wa;
  };
  const getWhatsApp = () => (whatsapp ??= createWhatsApp());
  return {
    whatsapp: getWhatsApp,
    /** Add the providers the config names (WhatsApp only when its credentials exist). */
    async addConfigured(): Promise<void> {
      if (config.whatsapp.enabled && existsSync(join(credsDir, "creds.json"))) await getWhatsApp();
      const tg = config.telegram;
      if (!tg.botToken) return;
      const { TelegramProvider } = await import("../providers/telegram/index.ts");
      const options = { botToken: tg.botToken, pollTimeoutS: tg.pollTimeoutS, sendTimeoutS: tg.sendTimeoutS, ...(tg.apiRoot ? { apiRoot: tg.apiRoot } : {}) };
      const groupsEnabled = () => config.telegram.groups.policy !== "disabled";
      providers.add(new TelegramProvider({ ...options, groupsEnabled }, providerDeps("telegram")));
    },
  };
}
