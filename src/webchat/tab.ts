import * as v from "valibot";
import { GatewayClientError } from "../client/index.ts";
import { utf8Length } from "../core/bytes.ts";
import { CloseCode, describeIssue } from "../protocol/index.ts";
import type { WireSocket } from "../runtime/types.ts";
import { BrowserMessageSchema, type BrowserMessage, type RelayError, type RelayMessage } from "./messages.ts";

export interface RelayLimits {
  /** Browser connections at once (every tab is one). */
  maxTabs: number;
  /** Largest message a browser may send. */
  maxMessageBytes: number;
  /** Unread bytes queued to a tab before it is closed as a slow consumer. */
  maxBufferedBytes: number;
  /** Requests one tab may have waiting on the gateway. */
  maxInFlightPerTab: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxTabs: 64,
  maxMessageBytes: 256 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxInFlightPerTab: 16,
};

/** A gateway failure as the page shows it. */
export function toRelayError(err: unknown): RelayError {
  if (err instanceof GatewayClientError) {
    const wire = err.detail.error;
    if (err.kind === "remote" && wire) {
      const field = (wire.details as { field?: unknown } | undefined)?.field;
      return {
        code: wire.code,
        message: wire.message,
        ...(wire.retryable ? { retryable: true } : {}),
        ...(typeof field === "string" ? { field } : {}),
      };
    }
    if (err.kind === "timeout") return { code: "UNAVAILABLE", message: "the gateway did not answer in time", retryable: true };
    return { code: "UNAVAILABLE", message: `not connected to the gateway (${err.message})`, retryable: true };
  }
  return { code: "INTERNAL", message: "internal error in the WebChat backend" };
}

/** One browser connection. */
export class Tab {
  inFlight = 0;
  open = true;

  constructor(
    private readonly sock: WireSocket,
    private readonly maxBufferedBytes: number,
  ) {}

  send(msg: RelayMessage): void {
    this.sendRaw(JSON.stringify(msg));
  }

  /** Queue a frame unless the tab has stopped reading; then it goes (it reconnects and gets a fresh hello). */
  sendRaw(frame: string): void {
    if (!this.open) return;
    const buffered = this.sock.bufferedAmount();
    if (buffered > this.maxBufferedBytes) return this.close(CloseCode.SLOW_CONSUMER, "slow consumer: reload the page");
    try {
      this.sock.send(frame);
    } catch {
      this.close(CloseCode.GOING_AWAY, "send failed");
    }
  }

  close(code: number, reason: string): void {
    if (!this.open) return;
    this.open = false;
    try {
      this.sock.close(code, reason);
    } catch {}
  }
}

/** What the HTTP edge calls for one accepted browser socket. */
export interface TabHandler {
  onMessage(data: unknown): void;
  onClose(): void;
}

/** Close the tab for a frame no page of ours sends; nothing to relay. */
function refuse(tab: Tab, code: number, reason: string): null {
  tab.close(code, reason);
  return null;
}

/**
 * One browser frame, decoded and validated; null when it was refused (answered with an
 * INVALID_REQUEST, or the tab closed for a frame no page of ours sends).
 */
export function decodeTabMessage(tab: Tab, data: unknown, maxBytes: number): BrowserMessage | null {
  if (typeof data !== "string") return refuse(tab, CloseCode.UNSUPPORTED_DATA, "send JSON text");
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long strings need counting.
  if (data.length * 3 > maxBytes && utf8Length(data) > maxBytes) {
    return refuse(tab, CloseCode.MESSAGE_TOO_BIG, `message larger than ${maxBytes} bytes`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return refuse(tab, CloseCode.INVALID_JSON, "malformed JSON");
  }
  const parsed = v.safeParse(BrowserMessageSchema, raw);
  if (parsed.success) return parsed.output;
  const id = (raw as { id?: unknown } | null)?.id;
  const issue = parsed.issues[0];
  const { field } = describeIssue(issue, "type");
  const error: RelayError = { code: "INVALID_REQUEST", message: `invalid ${field}: ${issue?.message ?? "bad message"}`, field };
  tab.send(typeof id === "string" && id.length <= 64 ? { type: "res", id, ok: false, error } : { type: "error", message: error.message });
  return null;
}
