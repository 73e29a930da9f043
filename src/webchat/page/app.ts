/// <reference lib="dom" />
/**
 * `/app.js`: the WebChat page. It never parses HTML: every piece of text (messages,
 * replies, presence) reaches the DOM as text nodes, and the CSP's Trusted Types rule
 * enforces that. It speaks only the relay's messages (../messages.ts), so a change
 * there that the page does not follow fails the typecheck.
 */
import type { BrowserMessage } from "../messages.ts";
import { onRes } from "./inbox.ts";
import { send, signIn, start, wsOpen } from "./socket.ts";
import { wirePairing } from "./pairing.ts";
import { $, load, nextId, state } from "./state.ts";
import { setLink } from "./status.ts";
import { addTo, ensureSession, finish, newRun, selectSession, scrollDown, userBubble } from "./transcript.ts";

/** Enter submits the form; Shift+Enter (or any modifier, or an IME composing) is a new line. */
function submitOnEnter(textarea: HTMLTextAreaElement, form: HTMLFormElement): void {
  textarea.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

function sendAgent(text: string): void {
  const s = ensureSession(state.current);
  const id = nextId();
  const user = userBubble(text);
  addTo(s, user);
  const run = newRun(null, s.id, "self");
  run.user = user;
  addTo(s, run.art);
  scrollDown();
  state.pending.set(id, { kind: "agent", run });
  if (!send({ type: "agent", id, message: text, sessionId: s.id })) {
    state.pending.delete(id);
    finish(run, "error", "UNAVAILABLE: not connected");
  }
}

function sessionName(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `chat-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}

function wireComposer(): void {
  const input = $<HTMLTextAreaElement>("composer-input");
  const composer = $<HTMLFormElement>("composer");
  submitOnEnter(input, composer);
  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value;
    if (!text.trim() || state.link !== "connected" || !wsOpen()) return;
    input.value = "";
    sendAgent(text);
  });
  $("session").addEventListener("change", (e) => selectSession((e.target as HTMLSelectElement).value));
  $("new-session").addEventListener("click", () => {
    selectSession(sessionName(new Date()));
    input.focus();
  });
}

function wireSidePanel(): void {
  $("refresh").addEventListener("click", () => {
    const a = nextId();
    const b = nextId();
    state.pending.set(a, { kind: "health" });
    state.pending.set(b, { kind: "presence" });
    if (!send({ type: "health", id: a }) || !send({ type: "system-presence", id: b })) {
      state.pending.delete(a);
      state.pending.delete(b);
    }
  });

  const sendForm = $<HTMLFormElement>("send-form");
  submitOnEnter($<HTMLTextAreaElement>("send-message"), sendForm);
  sendForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const to = $<HTMLInputElement>("send-to").value.trim();
    const message = $<HTMLTextAreaElement>("send-message").value;
    const provider = $<HTMLSelectElement>("send-provider").value;
    const out = $("send-result");
    if (!to || !message.trim()) return;
    const id = nextId();
    const msg: BrowserMessage = { type: "send", id, to, message };
    if (provider) msg.provider = provider as NonNullable<typeof msg.provider>;
    state.pending.set(id, { kind: "send" });
    out.setAttribute("data-kind", "pending");
    out.textContent = "Sending…";
    if (!send(msg)) onRes({ type: "res", id, ok: false, error: { code: "UNAVAILABLE", message: "not connected" } });
  });
}

function wireSignIn(): void {
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const field = $<HTMLInputElement>("login-token");
    void signIn({ token: field.value }).then((error) => {
      if (error !== null) return void ($("login-error").textContent = error);
      field.value = "";
      $("login-error").textContent = "";
      start();
    });
  });
}

function init(): void {
  const saved = load<unknown>("sessions", []);
  state.current = load<string>("session", "main") || "main";
  for (const id of ["main", ...(Array.isArray(saved) ? saved : [])]) {
    if (typeof id === "string" && id) ensureSession(id);
  }
  selectSession(state.current);
  wireComposer();
  wireSidePanel();
  wirePairing();
  wireSignIn();

  setLink("connecting", "");
  const link = /^#code=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!link) return start();
  // A one-time sign-in link: trade its code for the session cookie, and drop it from
  // the address bar and history (it is spent either way).
  history.replaceState(null, "", location.pathname + location.search);
  void signIn({ code: link[1]! })
    .then((error) => {
      if (error !== null) $("login-error").textContent = error;
    })
    .catch(() => {})
    .then(start);
}

init();
