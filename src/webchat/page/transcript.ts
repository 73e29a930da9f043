/// <reference lib="dom" />
/** Sessions and their transcripts: the user's messages and the agent's streamed replies. */
import { h, renderMarkdown } from "./markdown.ts";
import { $, MAX_RUNS, MAX_SESSIONS, state, store, type Run, type RunOrigin, type SessionView } from "./state.ts";

export function ensureSession(id: string): SessionView {
  const existing = state.sessions.get(id);
  if (existing) return existing;
  const empty = h("p", { class: "empty", text: "No messages in this session yet." });
  const box = h("div", { class: "transcript", "data-session": id }, empty);
  box.hidden = id !== state.current;
  $("transcripts").append(box);
  const opt = h("option", { text: id });
  opt.value = id;
  $("session").append(opt);
  const s: SessionView = { id, box, opt, empty, unread: false };
  state.sessions.set(id, s);
  if (id === state.current) $<HTMLSelectElement>("session").value = id;
  store("sessions", [...state.sessions.keys()].slice(-MAX_SESSIONS));
  return s;
}

export function selectSession(id: string): void {
  ensureSession(id);
  state.current = id;
  for (const s of state.sessions.values()) {
    s.box.hidden = s.id !== id;
    if (s.id === id && s.unread) {
      s.unread = false;
      s.opt.textContent = s.id;
    }
  }
  $<HTMLSelectElement>("session").value = id;
  store("session", id);
  scrollDown();
}

/** Activity in a session not shown: mark it in the picker. */
export function markActivity(s: SessionView): void {
  if (s.id !== state.current && !s.unread) {
    s.unread = true;
    s.opt.textContent = `${s.id} (new)`;
  }
}

export function addTo(s: SessionView, node: Node): void {
  s.empty.hidden = true;
  s.box.append(node);
}

function nearBottom(): boolean {
  const t = $("transcripts");
  return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
}

export function scrollDown(): void {
  const t = $("transcripts");
  t.scrollTop = t.scrollHeight;
}

export function userBubble(text: string): HTMLElement {
  return h("article", { class: "msg user", "aria-label": "You" }, h("span", { class: "meta", text: "you" }), text);
}

export function newRun(runId: string | null, sessionId: string, origin: RunOrigin): Run {
  const meta = h("span", { class: "meta" });
  const body = h("div", { class: "body" });
  const err = h("p", { class: "err" });
  err.hidden = true;
  const art = h("article", { class: "msg bot", "aria-label": "Agent" }, meta, body, err);
  const run: Run = { runId, sessionId, art, meta, body, err, text: "", status: "running", origin, user: null, timer: null };
  if (runId) remember(run);
  paint(run);
  return run;
}

/** File a run under its id; the oldest runs leave the DOM past MAX_RUNS. */
export function remember(run: Run): void {
  state.runs.set(run.runId!, run);
  while (state.runs.size > MAX_RUNS) {
    const oldest = state.runs.values().next().value!;
    state.runs.delete(oldest.runId!);
    oldest.art.remove();
    oldest.user?.remove();
  }
}

function paint(run: Run): void {
  const stick = nearBottom();
  renderMarkdown(run.text, run.body);
  run.art.setAttribute("data-status", run.status);
  run.art.setAttribute("aria-busy", run.status === "running" ? "true" : "false");
  const where = run.origin === "elsewhere" ? " · started elsewhere" : run.origin === "tab" ? " · from another tab" : "";
  const st = run.status === "running" ? " · streaming…" : run.status === "error" ? " · failed" : "";
  run.meta.textContent = `agent${where}${st}`;
  if (stick) scrollDown();
}

/** Repaint soon: deltas arrive faster than it is worth re-rendering. */
export function schedulePaint(run: Run): void {
  if (run.timer) return;
  run.timer = setTimeout(() => {
    run.timer = null;
    paint(run);
  }, 30);
}

export function finish(run: Run, status: Run["status"], error?: string): void {
  run.status = status;
  if (error) {
    run.err.textContent = error;
    run.err.hidden = false;
  }
  schedulePaint(run);
}
