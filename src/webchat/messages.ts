/**
 * The relay's own little protocol between the page and the WebChat backend. The browser
 * never speaks the gateway protocol (and never holds the token): it sends these
 * messages, the backend validates them here and maps them onto gateway requests.
 */
import * as v from "valibot";
import {
  PROVIDERS,
  type AgentEvent,
  type Health,
  type PairingRequest,
  type PresenceEntry,
  type PresenceEvent,
  type StateVersion,
} from "../protocol/index.ts";
import type { RecentRun } from "./runs.ts";

const text = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));
/** The page's own correlation id for a request; echoed on `ack` and `res`. */
const RequestId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));

export const AgentMessageSchema = v.strictObject({
  type: v.literal("agent"),
  id: RequestId,
  message: text(100_000),
  sessionId: v.optional(text(128)),
  to: v.optional(text(256)),
  deliver: v.optional(v.boolean()),
});

export const SendMessageSchema = v.strictObject({
  type: v.literal("send"),
  id: RequestId,
  to: text(256),
  message: text(65_536),
  provider: v.optional(v.picklist(PROVIDERS)),
});

export const HealthMessageSchema = v.strictObject({ type: v.literal("health"), id: RequestId });
export const PresenceMessageSchema = v.strictObject({ type: v.literal("system-presence"), id: RequestId });

/** Strangers waiting for a decision (answered with the list, which every tab also gets as `pairing`). */
export const PairingListMessageSchema = v.strictObject({ type: v.literal("pairing.list"), id: RequestId });
/** The owner's decision on a stranger's code (from the panel's list, or a code typed in). */
const pairingDecision = <T extends "pairing.approve" | "pairing.reject">(type: T) =>
  v.strictObject({ type: v.literal(type), id: RequestId, provider: v.picklist(PROVIDERS), code: text(32) });
export const PairingApproveMessageSchema = pairingDecision("pairing.approve");
export const PairingRejectMessageSchema = pairingDecision("pairing.reject");

/** Everything a browser may send. */
export const BrowserMessageSchema = v.variant("type", [
  AgentMessageSchema,
  SendMessageSchema,
  HealthMessageSchema,
  PresenceMessageSchema,
  PairingListMessageSchema,
  PairingApproveMessageSchema,
  PairingRejectMessageSchema,
]);
export type BrowserMessage = v.InferOutput<typeof BrowserMessageSchema>;

/** The relay's link to the gateway, as the page shows it. */
export type LinkState = "connecting" | "connected" | "reconnecting" | "disconnected";

export interface RelayError {
  code: string;
  message: string;
  retryable?: boolean;
  /** For INVALID_REQUEST: the failing field (`message`, `to`, …). */
  field?: string;
}

/** Everything the backend pushes to a browser. */
export type RelayMessage =
  | {
      type: "hello";
      state: LinkState;
      detail?: string;
      server: { version: string; commit: string; host: string } | null;
      health: Health | null;
      presence: PresenceEntry[];
      presenceVersion: number;
      runs: RecentRun[];
      /** The last pairing list the relay read; null until it has one. */
      pairing: PairingRequest[] | null;
      limits: { maxMessageBytes: number };
    }
  | { type: "state"; state: LinkState; detail?: string }
  /** Full health and presence after a (re)connect or a refresh on a `seq` gap. */
  | { type: "snapshot"; health: Health | null; presence: PresenceEntry[]; presenceVersion: number; runs?: RecentRun[] }
  | { type: "event"; event: "agent"; payload: AgentEvent; sessionId?: string }
  | { type: "event"; event: "presence"; payload: PresenceEvent; stateVersion?: StateVersion }
  | { type: "event"; event: "health"; payload: Health }
  /** A run some tab of this WebChat started: every tab shows the user's message. */
  | { type: "run"; runId: string; sessionId: string; message: string; ts: number }
  /** Strangers waiting for a decision (`pairing.list`), to every tab whenever the list changes. */
  | { type: "pairing"; requests: PairingRequest[] }
  | { type: "ack"; id: string; runId: string }
  | { type: "res"; id: string; ok: true; payload: unknown }
  | { type: "res"; id: string; ok: false; error: RelayError }
  | { type: "error"; message: string };
