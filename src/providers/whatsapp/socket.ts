import makeWASocket, {
  DEFAULT_CONNECTION_CONFIG,
  DisconnectReason,
  type GroupMetadata,
  type SignalRepositoryWithLIDStore,
  type UserFacingSocketConfig,
  type WAMessage,
  type WAMessageKey,
} from "@whiskeysockets/baileys";
import { GatewayError } from "../../protocol/index.ts";
import type { Logger } from "../../log.ts";

/** The part of a Baileys socket the provider uses. */
export interface WaSocketLike {
  ev: { on(event: string, listener: (arg: any) => void): void };
  sendMessage(jid: string, content: Record<string, unknown>, options?: { quoted?: WAMessage; ephemeralExpiration?: number; messageId?: string }): Promise<Pick<WAMessage, "key" | "message"> | undefined>;
  /** A group's subject and participants (behind `cachedGroupMetadata`). */
  groupMetadata?(jid: string): Promise<GroupMetadata>;
  /** "composing" while a run works, "paused" at its end. */
  sendPresenceUpdate?(type: "composing" | "paused" | "available" | "unavailable" | "recording", toJid?: string): Promise<void>;
  end(error: Error | undefined): void;
  logout(msg?: string): Promise<void>;
  requestPairingCode(phone: string): Promise<string>;
  onWhatsApp?(...jids: string[]): Promise<{ jid: string; exists: unknown }[] | undefined>;
  /** Read receipts (blue ticks) for received messages. */
  readMessages?(keys: WAMessageKey[]): Promise<void>;
  signalRepository?: Pick<SignalRepositoryWithLIDStore, "lidMapping">;
}

/** The seam: builds the socket. Production passes Baileys' `makeWASocket`; tests pass a fake peer. */
export type SocketFactory = (config: UserFacingSocketConfig) => WaSocketLike;

export const defaultSocketFactory: SocketFactory = (config) => makeWASocket(config) as unknown as WaSocketLike;

/** The WhatsApp Web version bundled with Baileys (override with `whatsapp.waVersion`). */
export const BUNDLED_WA_VERSION = DEFAULT_CONNECTION_CONFIG.version;

/**
 * Close codes that no reconnect will heal: stop, keep the credentials (except 401, where
 * WhatsApp already dropped the link), and say in health and the log what to do.
 */
export const STOP: Record<number, { stopped: string; action: string; clearCredentials?: boolean }> = {
  [DisconnectReason.loggedOut]: {
    stopped: "logged out (401)",
    action: "the phone removed this linked device; credentials were removed — run clawdis login to link again",
    clearCredentials: true,
  },
  [DisconnectReason.connectionReplaced]: {
    stopped: "connection replaced (440)",
    action: "another session took over this link — stop the other session, then restart the gateway",
  },
  [DisconnectReason.forbidden]: {
    stopped: "forbidden (403)",
    action: "WhatsApp refused this account (banned or restricted) — check WhatsApp on the phone, then restart the gateway",
  },
  405: {
    stopped: "WhatsApp Web version refused (405)",
    action: `WhatsApp no longer accepts the WhatsApp Web version in use (bundled ${BUNDLED_WA_VERSION.join(".")}) — set whatsapp.waVersion to the current one (e.g. [2,3000,N]) or update clawdis, then restart the gateway`,
  },
  [DisconnectReason.multideviceMismatch]: {
    stopped: "multi-device mismatch (411)",
    action: "this link does not match the account's multi-device state — run clawdis logout, then clawdis login",
  },
};

/** Baileys wants a pino-like logger; its chatter goes to our debug level. */
export function baileysLogger(log: Logger): UserFacingSocketConfig["logger"] {
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
