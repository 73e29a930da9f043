import type { WAVersion } from "@whiskeysockets/baileys";
import type { WaDownload } from "./chat.ts";
import type { SocketFactory } from "./socket.ts";

export interface WhatsAppOptions {
  credsDir: string;
  makeSocket?: SocketFactory;
  /** Baileys' WebSocket URL (tests point it at an unreachable loopback port). */
  waWebSocketUrl?: string;
  /** WhatsApp Web version to announce, when the one bundled with Baileys is stale (405). */
  waVersion?: WAVersion;
  /** Reconnect backoff bounds. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** A connection up this long resets the reconnect counter. */
  healthyAfterMs?: number;
  /** How long `web.login.start` waits for a pairing code. */
  pairingTimeoutMs?: number;
  /** Fetch + decrypt inbound media (default: Baileys' download from WhatsApp's media servers). */
  downloadMedia?: WaDownload;
  /** A media download that takes longer is given up, its stream destroyed (default 120 s). */
  mediaTimeoutMs?: number;
  /** How often "composing" is renewed while a run works. */
  typingEveryMs?: number;
}

/**
 * Baileys pings every this often and, when the server has not answered for this + 5 s,
 * ends the socket with 408 "Connection was lost" (rc14 socket.js): the close path below
 * then reconnects. A socket that stopped answering is thereby never reported connected.
 */
export const KEEP_ALIVE_INTERVAL_MS = 30_000;

/** Baileys' default WebSocket endpoint (named in "cannot reach WhatsApp (<host>: …)" when no other is set). */
export const WA_WEB_SOCKET_URL = "wss://web.whatsapp.com/ws/chat";
