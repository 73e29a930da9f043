import { join } from "node:path";
import { Browsers, DisconnectReason, type WAMessage } from "@whiskeysockets/baileys";
import { GatewayError, type SendResult } from "../../protocol/index.ts";
import { TypingChats } from "../typing.ts";
import type { Provider, ProviderDeps, ProviderSendParams, ProviderStatus } from "../types.ts";
import { WhatsAppAuthStore } from "./auth-store.ts";
import { sendWa } from "./chat.ts";
import { WhatsAppLogin, type LoginListener } from "./login.ts";
import { KEEP_ALIVE_INTERVAL_MS, WA_WEB_SOCKET_URL, type WhatsAppOptions } from "./options.ts";
import { hostOf, networkCause, unreachable } from "../../core/unreachable.ts";
import { WaChatState } from "./chat-state.ts";
import { RegisteredCache } from "./outbox.ts";
import { ReconnectSchedule } from "./reconnect.ts";
import { WaReceiver } from "./receive.ts";
import { SentStore } from "./sent-store.ts";
import { baileysLogger, defaultSocketFactory, STOP, toJid, type WaSocketLike } from "./socket.ts";

export { BUNDLED_WA_VERSION, toJid, type SocketFactory, type WaSocketLike } from "./socket.ts";
export { KEEP_ALIVE_INTERVAL_MS, type WhatsAppOptions } from "./options.ts";

/**
 * WhatsApp through Baileys: the only socket to WhatsApp on this host. Reconnects with
 * backoff and jitter; 515 reconnects at once; the codes in `STOP` stop for good. Every
 * listener first checks that its socket is still the current one, so a replaced
 * socket's late events change nothing.
 */
export class WhatsAppProvider implements Provider {
  readonly name = "whatsapp" as const;
  readonly store: WhatsAppAuthStore;
  private sock: WaSocketLike | null = null;
  private connected = false;
  private stopped = false;
  private lastConnectedAt: number | undefined;
  private lastDisconnect: { code: number; reason: string; at: number } | undefined;
  private stopReason: { stopped: string; action?: string } | undefined;
  private readonly reconnect: ReconnectSchedule;
  private readonly login: WhatsAppLogin;
  private linked: boolean;
  /** When the link was made (read once from the store, or set when a new link opens). */
  private linkedAt: number | undefined;
  /** Sends of the last 24 h, on disk: for Baileys' `getMessage` (a retry request after a restart still succeeds), and to know our own echoes. */
  private readonly recentSent: SentStore;
  /** Per chat: hand-over order, disappearing timer, group metadata (issue 21). */
  private readonly chats: WaChatState;
  private readonly registered = new RegisteredCache();
  private readonly receiver: WaReceiver;
  private readonly typingChats: TypingChats;
  /** Why the last connection failed when the network was the cause (health `web.lastError`); cleared on open. */
  private lastError: string | undefined;
  /** The socket's creds (Baileys updates them in place): `me` is the linked account. */
  private creds: { me?: { id?: string | null; lid?: string | null } | null } = {};

  constructor(
    private readonly opts: WhatsAppOptions,
    private readonly deps: ProviderDeps,
  ) {
    this.store = new WhatsAppAuthStore(opts.credsDir, (note) => deps.log.warn(`whatsapp: ${note}`));
    this.reconnect = new ReconnectSchedule(opts, () => deps.onStatus());
    this.login = new WhatsAppLogin(opts.pairingTimeoutMs ?? 30_000);
    this.linked = this.store.isLinked();
    this.typingChats = new TypingChats(opts.typingEveryMs ?? 10_000);
    this.recentSent = new SentStore(join(deps.stateDir, "whatsapp", "sent.jsonl"), (note) => deps.log.warn(`whatsapp: ${note}`));
    this.chats = new WaChatState(deps.log);
    this.receiver = new WaReceiver(opts, deps, this.recentSent, this.chats);
  }

  status(): ProviderStatus {
    if (this.linked) this.linkedAt ??= this.store.linkedAt();
    const linkedAt = this.linked ? this.linkedAt : undefined;
    const lastInboundAt = this.receiver.lastInboundAt;
    return {
      linked: this.linked,
      connected: this.connected,
      ...(linkedAt !== undefined ? { authAgeMs: Math.max(0, Math.round(Date.now() - linkedAt)) } : {}),
      detail: {
        reconnectAttempts: this.reconnect.attempts,
        ...(this.lastConnectedAt ? { lastConnectedAt: this.lastConnectedAt } : {}),
        ...(this.lastDisconnect ? { lastDisconnect: this.lastDisconnect } : {}),
        ...(this.lastError ? { lastError: this.lastError } : {}),
        ...(lastInboundAt !== undefined ? { lastInboundAt } : {}),
        ...(this.stopReason ?? {}),
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
    this.typingChats.stopAll();
    this.receiver.stop();
    this.reconnect.clear();
    this.dropSocket();
    this.setConnected(false);
  }

  /**
   * Begin linking. A QR code arrives through the listener; with `phone`, a pairing code is
   * requested instead, once the socket's first `qr` update shows the handshake is done
   * (WhatsApp refuses the request earlier, with 428), and returned here.
   */
  async beginLogin(listener: LoginListener, phone?: string): Promise<{ pairingCode?: string }> {
    if (this.linked && this.connected) throw new GatewayError("INVALID_REQUEST", "WhatsApp is already linked; run clawdis logout first");
    const code = this.login.begin(listener, phone);
    this.stopped = false;
    this.stopReason = undefined;
    this.reconnect.clear();
    if (!this.sock || phone) await this.connect();
    return code ? { pairingCode: await code } : {};
  }

  /** Unlink: tell WhatsApp (best effort), then remove the credentials. */
  async logout(): Promise<void> {
    const sock = this.sock;
    this.stopped = true;
    this.reconnect.clear();
    try {
      await sock?.logout("clawdis logout");
    } catch (err) {
      this.deps.log.warn("whatsapp: logout request failed; removing local credentials anyway", { error: (err as Error).message });
    }
    this.dropSocket();
    await this.store.clear();
    this.linked = false;
    this.linkedAt = undefined;
    this.stopReason = { stopped: "logged out by clawdis logout" };
    this.setConnected(false);
  }

  /** Forget the current socket first (its listeners go quiet), then close it. */
  private dropSocket(): void {
    const sock = this.sock;
    this.sock = null;
    sock?.end(undefined);
  }

  private setConnected(connected: boolean): void {
    this.connected = connected;
    this.deps.onStatus();
  }

  private async connect(): Promise<void> {
    const { state, saveCreds } = await this.store.state();
    this.dropSocket();
    const factory = this.opts.makeSocket ?? defaultSocketFactory;
    const sock = factory({
      auth: state,
      logger: baileysLogger(this.deps.log),
      browser: Browsers.macOS("Clawdis"),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      getMessage: this.recentSent.get,
      shouldIgnoreJid: this.chats.shouldIgnoreJid,
      cachedGroupMetadata: (jid: string) => this.chats.groupMetadata(this.sock?.groupMetadata?.bind(this.sock))(jid),
      keepAliveIntervalMs: KEEP_ALIVE_INTERVAL_MS,
      ...(this.opts.waVersion ? { version: this.opts.waVersion } : {}),
      ...(this.opts.waWebSocketUrl ? { waWebSocketUrl: this.opts.waWebSocketUrl } : {}),
    });
    this.sock = sock;
    this.creds = state.creds;
    const mine = () => this.sock === sock;
    sock.ev.on("creds.update", () => {
      if (!mine()) return;
      void saveCreds().catch((err) => this.deps.log.error("whatsapp: could not save credentials", { error: (err as Error).message }));
    });
    sock.ev.on("connection.update", (u: { connection?: string; qr?: string; isNewLogin?: boolean; lastDisconnect?: { error?: unknown } }) => {
      if (!mine()) return;
      if (u.qr) this.login.onQr(sock, u.qr);
      if (u.isNewLogin) {
        this.linkedAt = Date.now();
        void this.store.markLinked(this.linkedAt);
      }
      if (u.connection === "open") this.onOpen(state.creds.me?.id);
      if (u.connection === "close") this.onClose(u.lastDisconnect?.error);
    });
    sock.ev.on("messages.upsert", (up: { messages: WAMessage[]; type: string }) => {
      if (!mine()) return;
      // One chat, one order (issue 21 §3): each message is handed on after the one before it in its chat.
      for (const m of up.messages) this.chats.inOrder(m.key.remoteJid ?? "", () => this.receiver.take(sock, m, up.type, this.creds.me ?? {}, mine));
    });
    sock.ev.on("groups.update", (list: { id?: string }[]) => list.forEach((g) => this.chats.groupChanged(g.id)));
    sock.ev.on("group-participants.update", (u: { id?: string }) => this.chats.groupChanged(u.id));
  }

  private onOpen(me: string | undefined): void {
    this.linked = true;
    this.lastError = undefined;
    this.lastConnectedAt = Date.now();
    this.stopReason = undefined;
    this.deps.log.info(`whatsapp: connected${me ? ` as ${me.split(":")[0]}` : ""}`);
    this.reconnect.opened();
    this.setConnected(true);
    this.login.linked();
  }

  private stopWith(stop: { stopped: string; action?: string }, level: "warn" | "error" = "warn"): void {
    this.stopped = true;
    this.stopReason = stop;
    this.deps.log[level](`whatsapp: ${stop.stopped}; not reconnecting${stop.action ? ` — ${stop.action}` : ""}`);
    this.login.ended(stop.stopped);
    this.deps.onStatus();
  }

  private onClose(error: unknown): void {
    const code = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode ?? 0;
    const reason = (error as Error | undefined)?.message ?? "connection closed";
    this.lastDisconnect = { code, reason, at: Date.now() };
    // Baileys reports a socket that never connected (DNS, refused, TLS) as a 408, like a QR timeout: name the network instead.
    const net = networkCause(error);
    this.lastError = net ? unreachable("WhatsApp", hostOf(this.opts.waWebSocketUrl ?? WA_WEB_SOCKET_URL), net) : undefined;
    this.sock = null;
    this.reconnect.closed();
    this.setConnected(false);
    if (this.stopped) return;
    const restart = code === DisconnectReason.restartRequired;
    const stop = STOP[code];
    if (stop) {
      if (stop.clearCredentials) {
        this.linked = false;
        this.linkedAt = undefined;
        void this.store.clear().then(() => this.deps.onStatus());
      }
      return this.stopWith(stop, code === DisconnectReason.loggedOut ? "warn" : "error");
    }
    // Not linked: a login was under way. Only the restart after pairing goes on; anything
    // else (QR codes ran out, network) ends the login instead of making QR codes forever.
    if (!this.linked && !restart) {
      const expired = code === DisconnectReason.timedOut;
      return this.stopWith({
        stopped: this.lastError ?? (expired ? "login abandoned: no phone linked before the QR codes ran out (408)" : `login ended: ${reason} (${code})`),
        action: this.lastError ? "run clawdis login again once WhatsApp is reachable" : "run clawdis login again",
      });
    }
    const delay = this.reconnect.next(restart, () => {
      if (!this.stopped) void this.connect().catch((err) => this.deps.log.error("whatsapp: reconnect failed", { error: (err as Error).message }));
    });
    if (this.lastError) this.deps.log.warn(`whatsapp: ${this.lastError}; reconnecting in ${delay} ms`);
    else this.deps.log.info(`whatsapp: disconnected (${code} ${reason}); reconnecting in ${delay} ms`);
    this.deps.onStatus();
  }

  async send(params: ProviderSendParams): Promise<SendResult> {
    const sock = this.sock;
    if (!sock || !this.connected) throw new GatewayError("UNAVAILABLE", "whatsapp is reconnecting; try again shortly", { retryable: true, retryAfterMs: 2_000 });
    const mediaUrls = this.deps.mediaUrls?.();
    return sendWa(sock, params, {
      registered: this.registered,
      recentSent: this.recentSent,
      recentInbound: this.receiver.recentInbound,
      expiration: (jid) => this.chats.expiration(jid),
      ...(mediaUrls ? { mediaUrls } : {}),
    });
  }

  /** A blue tick for a message that started a run (the message must still be in the recent-inbound cache). */
  markRead(_chat: string, messageId: string): void {
    if (this.connected) this.receiver.markRead(this.sock, messageId);
  }

  /** "composing" in the chat (renewed while the run works), "paused" when it ends. */
  typing(to: string): () => void {
    const presence = (type: "composing" | "paused") => {
      const sock = this.sock;
      if (!sock?.sendPresenceUpdate || !this.connected) return;
      sock.sendPresenceUpdate(type, toJid(to)).catch((err: Error) => this.deps.log.debug(`whatsapp: presence ${type} failed`, { chat: to, error: err.message }));
    };
    return this.typingChats.start(to, () => presence("composing"), () => presence("paused"));
  }
}
