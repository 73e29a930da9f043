/// <reference lib="dom" />
/** The socket to the WebChat backend (never to the gateway itself), and signing in. */
import { backoffDelay } from "../../core/backoff.ts";
import type { BrowserMessage } from "../messages.ts";
import { relayProtocols } from "../tab-secret.ts";
import { onMessage, onRes } from "./inbox.ts";
import { adopt, askSiblings, secretHeaders, tabSecret } from "./secret.ts";
import { $, state } from "./state.ts";
import { setLink } from "./status.ts";

export function wsOpen(): boolean {
  return state.ws !== null && state.ws.readyState === WebSocket.OPEN;
}

/** Send one message to the backend; false when the socket is not open. */
export function send(msg: BrowserMessage): boolean {
  if (!wsOpen()) return false;
  state.ws!.send(JSON.stringify(msg));
  return true;
}

function failPending(why: string): void {
  for (const id of [...state.pending.keys()]) onRes({ type: "res", id, ok: false, error: { code: "UNAVAILABLE", message: why } });
}

function connect(): void {
  // The tab secret rides as a subprotocol (a browser cannot set headers on a WebSocket).
  const secret = tabSecret();
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss://" : "ws://"}${location.host}/ws`, secret ? relayProtocols(secret) : undefined);
  state.ws = ws;
  ws.onopen = () => {
    state.retry = 0;
  };
  ws.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(String(e.data));
    } catch {
      return;
    }
    onMessage(m);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    failPending("the connection to WebChat was lost");
    setLink("reconnecting", "lost the connection to the WebChat server");
    retryLater();
  };
}

/** The one shared backoff with jitter (src/core/backoff.ts: pure arithmetic, browser-safe). */
const RETRY = { initialMs: 500, maxMs: 5_000 };

function retryLater(): void {
  setTimeout(start, backoffDelay(state.retry++, RETRY));
}

/** A sibling tab's secret arrived while this one shows the sign-in form: try it. */
function siblingSecretLate(): void {
  if (!$("login").hidden) start();
}

/** Ask whether a sign-in is needed (cookie and tab secret); then show the form, or connect. */
export function start(): void {
  fetch("/api/session", { cache: "no-store", credentials: "same-origin", headers: secretHeaders() })
    .then((r) => r.json() as Promise<{ auth: "token" | "none"; authenticated: boolean }>)
    .then(async (info) => {
      if (info.auth === "token" && !info.authenticated) {
        // A new tab: an open sibling of this WebChat may hand over its secret.
        if (await askSiblings(siblingSecretLate)) return start();
        $("app").hidden = true;
        $("login").hidden = false;
        setLink("disconnected", "sign in first");
        $("login-token").focus();
        return;
      }
      $("login").hidden = true;
      $("app").hidden = false;
      connect();
    })
    .catch(() => {
      setLink("reconnecting", "the WebChat server is not answering");
      retryLater();
    });
}

/** POST /api/login with the token or a one-time code; resolves with the error to show, or null. */
export function signIn(creds: { token: string } | { code: string }): Promise<string | null> {
  return fetch("/api/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(creds),
  }).then((r) => {
    if (r.ok) return (r.json() as Promise<{ secret: string }>).then((j) => (adopt(j.secret), null));
    return r
      .json()
      .catch(() => ({}))
      .then((j: { error?: string }) => j.error || `sign-in failed (${r.status})`);
  });
}
