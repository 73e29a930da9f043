import type { LoadedConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { AgentBackend } from "../agent/types.ts";
import type { Logger } from "../log.ts";
import type { Providers } from "../providers/index.ts";
import type { RuntimeName } from "../runtime/index.ts";
import type { GatewayContext } from "./context.ts";
import type { ReloadApplyDeps } from "./reload-apply.ts";

/** What `createGateway` is given: the config, where its state lives, and the seams tests use. */
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
  onReload?: ReloadApplyDeps["onReload"];
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
