import makeWASocket, { Browsers, type UserFacingSocketConfig, type WAMessage } from "@whiskeysockets/baileys";
import { GatewayError, type SendParams, type SendResult } from "../../protocol/index.ts";
import type { Logger } from "../../log.ts";
import { fetchMedia, MediaError } from "../media.ts";
import type { Provider, ProviderDeps, ProviderStatus } from "../types.ts";
import { WhatsAppAuthStore } from "./auth-store.ts";

/** The part of a Baileys socket the provider uses. */
export interface WaSocketLike {
  ev: { on(event: string, listener: (arg: any) => void): void };
  sendMessage(jid: string, content: Record<string, unknown>): Promise<{ key: { id?: string | null } } | undefined>;
  end(error: Error | undefined): void;
  logout(msg?: string): Promise<void>;
  requestPairingCode(phone: string): Promise<string>;
}

/** The seam: builds the socket. Production passes Baileys' `makeWASocket`; tests pass a fake peer. */
export type SocketFactory = (config: UserFacingSocketConfig) => WaSocketLike;

export const defaultSocketFactory: SocketFactory = (config) => makeWASocket(config) as unknown as WaSocketLike;

/** Baileys' disconnect codes this provider acts on. */
export const WaCode = { loggedOut: 401, connectionReplaced: 440, restartRequired: 515 } as const;

export interface WhatsAppOptions {
  credsDir: string;
  makeSocket?: SocketFactory;
  /** Baileys' WebSocket URL (tests point it at an unreachable loopback port). */
  waWebSocketUrl?: string;
  /** Reconnect backoff bounds. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** A connection up this long resets the reconnect counter. */
  healthyAfterMs?: number;
}

/** Baileys wants a pino-like logger; its chatter goes to our debug level. */
function baileysLogger(log: Logger): UserFacingSocketConfig["logger"] {
  const text = (obj: unknown, msg?: string) => msg ?? (typeof obj === "string" ? obj : JSON.stringify(obj)?.slice(0, 500) ?? "");
  const make = (): any => ({
    level: log.debugEnabled ? "debug" : "warn",
    child: () => make(),
    trace: () => {},
    debug: (o: unknown, m?: string) => log.debug(`baileys: ${text(o, m)}`),
    info: (o: unknown, m?: string) => log.debug(`baileys: ${text(o, m)}`),
    warn: (o: unknown, m?: string) => log.debug(`baileys warn: ${text(o, m)}`),
    error: (o: unknown, m?: string) => log.warn(`baileys: ${text(o, m)}`),
    fatal: (o: unknown, m?: string) => log.error(`baileys: ${text(o, m)}`),
  });
  return make();
}

/** `+1 (555) 123-4567` → `15551234567@s.whatsapp.net`; a JID passes through. */
export function toJid(to: string): string {
  if (to.includes("@")) return to;
  const digits = to.replace(/[^0-9]/g, "");
  if (digits.length < 5) throw new GatewayError("INVALID_REQUEST", `to: ${JSON.stringify(to)} is not a phone number or WhatsApp JID`, { details: { field: "params.to" } });
  return `${digits}@s.whatsapp.net`;
}

function messageText(m: WAMessage): string | null {
  const msg = m.message;
  return msg?.conversation ?? msg?.extendedTextMessage?.text ?? msg?.imageMessage?.caption ?? null;
}

type LoginListener = { onQr?: (qr: string) => void; onLinked?: () => void };

/**
 * WhatsApp through Baileys: the only socket to WhatsApp on this host. Reconnects with
 * backoff and jitter; 515 reconnects at once; 401 (logged out) clears the credentials
 * and stops; 440 (replaced by another session) stops without a retry loop.
 */
export class WhatsAppProvider implements Provider {
  readonly name = "whatsapp" as const;
  readonly store: WhatsAppAuthStore;
  private sock: WaSocketLike | null = null;
  private connected = false;
  private stopped = false;
  private attempts = 0;
  private lastConnectedAt: number | undefined;
  private lastDisconnect: { code: number; reason: string; at: number } | undefined;
  private stopReason: string | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private healthyTimer: ReturnType<typeof setTimeout> | null = null;
  private login: LoginListener | null = null;
  private linked: boolean;

  constructor(
    private readonly opts: WhatsAppOptions,
    private readonly deps: ProviderDeps,
  ) {
    this.store = new WhatsAppAuthStore(opts.credsDir);
    this.linked = this.store.isLinked();
  }

  status(): ProviderStatus {
    const linkedAt = this.linked ? this.store.linkedAt() : undefined;
    return {
      linked: this.linked,
      connected: this.connected,
      ...(linkedAt !== undefined ? { authAgeMs: Math.max(0, Math.round(Date.now() - linkedAt)) } : {}),
      detail: {
        reconnectAttempts: this.attempts,
        ...(this.lastConnectedAt ? { lastConnectedAt: this.lastConnectedAt } : {}),
        ...(this.lastDisconnect ? { lastDisconnect: this.lastDisconnect } : {}),
        ...(this.stopReason ? { stopped: this.stopReason } : {}),
      },
    };
  }

  /** Connect when credentials exist; an unlinked gateway waits for `web.login`. */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.linked) await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const sock = this.sock;
    this.sock = null;
    sock?.end(undefined);
    this.setConnected(false);
  }

  /** Begin linking: a QR code (or a pairing code for `phone`) arrives through the listener. */
  async beginLogin(listener: LoginListener, phone?: string): Promise<{ pairingCode?: string }> {
    if (this.linked && this.connected) throw new GatewayError("INVALID_REQUEST", "WhatsApp is already linked; run clawdis logout first");
    this.login = listener;
    this.stopped = false;
    this.stopReason = undefined;
    if (!this.sock) await this.connect();
    if (phone) {
      const code = await this.sock!.requestPairingCode(phone.replace(/[^0-9]/g, ""));
      return { pairingCode: code };
    }
    return {};
  }

  endLogin(): void {
    this.login = null;
  }

  /** Unlink: tell WhatsApp (best effort), then remove the credentials. */
  async logout(): Promise<void> {
    const sock = this.sock;
    this.stopped = true;
    this.clearTimers();
    try {
      await sock?.logout("clawdis logout");
    } catch (err) {
      this.deps.log.warn("whatsapp: logout request failed; removing local credentials anyway", { error: (err as Error).message });
    }
    this.sock = null;
    sock?.end(undefined);
    await this.store.clear();
    this.linked = false;
    this.stopReason = "logged out by clawdis logout";
    this.setConnected(false);
  }

  private clearTimers(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    this.reconnectTimer = this.healthyTimer = null;
  }

  private setConnected(connected: boolean): void {
    this.connected = connected;
    this.deps.onStatus();
  }

  private async connect(): Promise<void> {
    const { state, saveCreds } = await this.store.state();
    const factory = this.opts.makeSocket ?? defaultSocketFactory;
    const sock = factory({
      auth: state,
      logger: baileysLogger(this.deps.log),
      browser: Browsers.macOS("Clawdis"),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      ...(this.opts.waWebSocketUrl ? { waWebSocketUrl: this.opts.waWebSocketUrl } : {}),
    });
    this.sock = sock;
    sock.ev.on("creds.update", () => {
      void saveCreds().catch((err) => this.deps.log.error("whatsapp: could not save credentials", { error: (err as Error).message }));
    });
    sock.ev.on("connection.update", (u: { connection?: string; qr?: string; lastDisconnect?: { error?: unknown } }) => {
      if (this.sock !== sock) return;
      if (u.qr) this.login?.onQr?.(u.qr);
      if (u.connection === "open") this.onOpen(state.creds.me?.id);
      if (u.connection === "close") this.onClose(u.lastDisconnect?.error);
    });
    sock.ev.on("messages.upsert", (up: { messages: WAMessage[]; type: string }) => {
      if (up.type !== "notify") return;
      for (const m of up.messages) {
        const text = messageText(m);
        if (m.key.fromMe || !text || !m.key.id || !m.key.remoteJid) continue;
        const sender = m.key.participant ?? m.key.remoteJid;
        this.deps.onInbound({
          provider: "whatsapp",
          chat: m.key.remoteJid,
          sender,
          senderNames: [`+${sender.split("@")[0]!.split(":")[0]}`],
          messageId: m.key.id,
          text,
          ts: Number(m.messageTimestamp ?? 0) * 1000 || Date.now(),
        });
      }
    });
  }

  private onOpen(me: string | undefined): void {
    this.linked = true;
    this.lastConnectedAt = Date.now();
    this.stopReason = undefined;
    this.deps.log.info(`whatsapp: connected${me ? ` as ${me.split(":")[0]}` : ""}`);
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    // A minute of healthy connection forgives earlier failures.
    this.healthyTimer = setTimeout(() => {
      this.attempts = 0;
      this.deps.onStatus();
    }, this.opts.healthyAfterMs ?? 60_000);
    this.setConnected(true);
    if (this.login) {
      this.login.onLinked?.();
      this.login = null;
    }
  }

  private onClose(error: unknown): void {
    const code = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode ?? 0;
    const reason = (error as Error | undefined)?.message ?? "connection closed";
    this.lastDisconnect = { code, reason, at: Date.now() };
    this.sock = null;
    if (this.healthyTimer) clearTimeout(this.healthyTimer);
    this.setConnected(false);
    if (this.stopped) return;
    if (code === WaCode.loggedOut) {
      this.deps.log.warn("whatsapp: logged out by the phone (401); credentials removed — run clawdis login to link again");
      this.stopped = true;
      this.linked = false;
      this.stopReason = "logged out (401)";
      void this.store.clear().then(() => this.deps.onStatus());
      return;
    }
    if (code === WaCode.connectionReplaced) {
      this.deps.log.warn("whatsapp: connection replaced by another session (440); not reconnecting — stop the other session and restart the gateway");
      this.stopped = true;
      this.stopReason = "connection replaced (440)";
      this.deps.onStatus();
      return;
    }
    const restart = code === WaCode.restartRequired;
    let delay = 0;
    if (!restart) {
      const initial = this.opts.backoff?.initialMs ?? 2_000;
      const max = this.opts.backoff?.maxMs ?? 30_000;
      const base = Math.min(max, initial * 2 ** this.attempts);
      delay = Math.round(base / 2 + Math.random() * (base / 2));
      this.attempts += 1;
    }
    this.deps.log.info(`whatsapp: disconnected (${code} ${reason}); reconnecting in ${delay} ms`);
    this.deps.onStatus();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) void this.connect().catch((err) => this.deps.log.error("whatsapp: reconnect failed", { error: (err as Error).message }));
    }, delay);
  }

  async send(params: SendParams): Promise<SendResult> {
    const sock = this.sock;
    if (!sock || !this.connected) throw new GatewayError("UNAVAILABLE", "whatsapp is reconnecting; try again shortly", { retryable: true, retryAfterMs: 2_000 });
    const jid = toJid(params.to);
    let content: Record<string, unknown> = { text: params.message };
    if (params.mediaUrl) {
      let media;
      try {
        media = await fetchMedia(params.mediaUrl);
      } catch (err) {
        if (err instanceof MediaError) throw new GatewayError("INVALID_REQUEST", err.message, { details: { field: "params.mediaUrl" } });
        throw err;
      }
      const data = Buffer.from(media.data);
      const caption = params.message || undefined;
      // No thumbnails: the image libraries Baileys would use do not load in the single binary.
      content =
        media.kind === "image"
          ? { image: data, caption, mimetype: media.contentType, jpegThumbnail: "" }
          : media.kind === "video"
            ? { video: data, caption, mimetype: media.contentType, jpegThumbnail: "" }
            : media.kind === "audio"
              ? { audio: data, mimetype: media.contentType }
              : { document: data, caption, mimetype: media.contentType, fileName: media.fileName };
    }
    const sent = await sock.sendMessage(jid, content);
    return { provider: "whatsapp", to: jid, messageId: sent?.key.id ?? "", ts: Date.now() };
  }
}
