/// <reference lib="dom" />
/** What the page holds: the socket, the gateway's health and presence, sessions and runs. */
import type { Health, PairingRequest, PresenceEntry, ProviderName } from "../../protocol/index.ts";
import type { LinkState } from "../messages.ts";

/** The page is bounded too: past these, the oldest go. */
export const MAX_RUNS = 500;
export const MAX_RUN_TEXT = 200_000;
export const MAX_SESSIONS = 50;

/** One session's transcript and its entry in the picker. */
export interface SessionView {
  id: string;
  box: HTMLDivElement;
  opt: HTMLOptionElement;
  empty: HTMLParagraphElement;
  unread: boolean;
}

/** Where a run shown here came from. */
export type RunOrigin = "self" | "tab" | "elsewhere";

/** One agent reply bubble (and the user's message above it, when known). */
export interface Run {
  /** Null until the backend's `ack` names it. */
  runId: string | null;
  sessionId: string;
  art: HTMLElement;
  meta: HTMLElement;
  body: HTMLElement;
  err: HTMLElement;
  text: string;
  status: "running" | "ok" | "error";
  origin: RunOrigin;
  user: HTMLElement | null;
  timer: ReturnType<typeof setTimeout> | null;
}

/** A request of this tab waiting for its `res`. */
export type Pending =
  | { kind: "agent"; run: Run }
  | { kind: "health" }
  | { kind: "presence" }
  | { kind: "send" }
  | { kind: "pairing.list" }
  | { kind: "pairing.approve" | "pairing.reject"; provider: ProviderName; code: string };

export const state = {
  ws: null as WebSocket | null,
  retry: 0,
  link: "connecting" as LinkState,
  health: null as Health | null,
  presence: new Map<string, PresenceEntry>(),
  /** Strangers waiting for a decision; null until the backend has read the list. */
  pairing: null as PairingRequest[] | null,
  sessions: new Map<string, SessionView>(),
  current: "main",
  runs: new Map<string, Run>(),
  pending: new Map<string, Pending>(),
  nextId: 0,
};

/** A fresh id for one of this tab's requests. */
export function nextId(): string {
  state.nextId += 1;
  return `r${state.nextId}`;
}

export function store(key: string, value: unknown): void {
  try {
    localStorage.setItem(`clawdis.webchat.${key}`, JSON.stringify(value));
  } catch {}
}

export function load<T>(key: string, fallback: T): T {
  try {
    const v = localStorage.getItem(`clawdis.webchat.${key}`);
    return v === null ? fallback : (JSON.parse(v) as T);
  } catch {
    return fallback;
  }
}

/** The element with this id (the page's markup has every one the script uses). */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}
