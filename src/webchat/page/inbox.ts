/// <reference lib="dom" />
/** Every message from the WebChat backend, applied to the page. */
import type { AgentEvent, AgentFinal, Health, PresenceEntry, SendResult } from "../../protocol/index.ts";
import type { RelayMessage } from "../messages.ts";
import type { RecentRun } from "../runs.ts";
import { $, MAX_RUN_TEXT, state } from "./state.ts";
import { onPairingRes, setPairing } from "./pairing.ts";
import { applySnapshot, describeError, presenceKey, renderHealth, renderPresence, setLink } from "./status.ts";
import { addTo, ensureSession, finish, markActivity, newRun, remember, schedulePaint, userBubble } from "./transcript.ts";
import { showTool } from "./tools.ts";

type Msg<T extends RelayMessage["type"]> = Extract<RelayMessage, { type: T }>;
export type ResMessage = Msg<"res">;

function onHello(m: Msg<"hello">): void {
  const server = m.server;
  $("server").textContent = server ? `gateway ${server.host} · v${server.version}` : "";
  applySnapshot(m);
  mergeRuns(m.runs || [], true);
  setLink(m.state, m.detail);
  setPairing(m.pairing);
}

/**
 * Fold the backend's recent runs in: a new tab gets the conversation so far, and a tab
 * that reconnected keeps what it shows and catches up on what it missed. After a fresh
 * hello, a run still streaming here that the backend no longer knows was cut off.
 */
function mergeRuns(runs: RecentRun[], interruptUnknown: boolean): void {
  const known = new Set<string>();
  for (const r of runs) {
    known.add(r.runId);
    let run = state.runs.get(r.runId);
    if (!run) {
      const s = ensureSession(r.sessionId || "main");
      let user: HTMLElement | null = null;
      if (r.message) {
        user = userBubble(r.message);
        addTo(s, user);
      }
      run = newRun(r.runId, s.id, r.message ? "self" : "elsewhere");
      run.user = user;
      addTo(s, run.art);
    }
    if (r.text.length >= run.text.length) run.text = r.text;
    if (r.status === "error") finish(run, "error", r.error || "failed");
    else {
      run.err.hidden = true;
      finish(run, r.status);
    }
  }
  if (!interruptUnknown) return;
  for (const run of state.runs.values()) {
    if (run.status === "running" && run.runId && !known.has(run.runId)) finish(run, "error", "interrupted: the connection dropped while this reply streamed");
  }
}

function onAgentEvent(ev: AgentEvent, sessionId?: string): void {
  const data = (ev.data || {}) as Record<string, unknown>;
  let run = state.runs.get(ev.runId);
  if (!run) {
    const sid = sessionId || (ev.stream === "lifecycle" && typeof data.sessionId === "string" ? data.sessionId : "main");
    run = newRun(ev.runId, sid, "elsewhere");
    addTo(ensureSession(sid), run.art);
  }
  markActivity(ensureSession(run.sessionId));
  if (ev.stream === "assistant" && typeof data.delta === "string") {
    if (run.text.length < MAX_RUN_TEXT) run.text += data.delta;
    schedulePaint(run);
  } else if (ev.stream === "lifecycle") {
    if (data.phase === "end") finish(run, run.status === "error" ? "error" : "ok");
    else if (data.phase === "error") finish(run, "error", data.reason === "shutdown" ? "stopped: the gateway shut down" : String(data.code || "error"));
  } else if (ev.stream === "error") {
    finish(run, "error", typeof data.message === "string" ? data.message : "error");
  } else if (ev.stream === "tool") {
    showTool(run, data);
  }
}

function onAck(m: Msg<"ack">): void {
  const p = state.pending.get(m.id);
  if (!p || p.kind !== "agent") return;
  const existing = state.runs.get(m.runId);
  if (existing && existing !== p.run) {
    // Events overtook the ack: keep the bubble that already streams, drop the placeholder.
    p.run.art.remove();
    p.run.user?.after(existing.art);
    existing.user = p.run.user;
    existing.origin = "self";
    p.run = existing;
    schedulePaint(existing);
  } else {
    p.run.runId = m.runId;
    remember(p.run);
  }
}

function onRun(m: Msg<"run">): void {
  let run = state.runs.get(m.runId);
  if (run?.user) return;
  if (!run) {
    run = newRun(m.runId, m.sessionId, "tab");
    addTo(ensureSession(m.sessionId), run.art);
  } else {
    run.origin = "tab";
    schedulePaint(run);
  }
  const user = userBubble(m.message);
  run.art.before(user);
  run.user = user;
  markActivity(ensureSession(run.sessionId));
}

/** A request's answer (also a made-up failure when the socket dropped). */
export function onRes(m: ResMessage): void {
  const p = state.pending.get(m.id);
  if (!p) return;
  state.pending.delete(m.id);
  if (p.kind === "agent") {
    const run = p.run;
    const final = m.ok ? (m.payload as AgentFinal | undefined) : undefined;
    if (!m.ok) finish(run, "error", describeError(m.error));
    else if (final?.status === "error") finish(run, "error", final.summary || "the run failed");
    else {
      if (!run.text && final?.summary) run.text = final.summary;
      const d = final?.delivery;
      finish(run, "ok", d?.error ? `not delivered: ${describeError(d.error)}` : undefined);
    }
  } else if (p.kind === "health") {
    if (m.ok) {
      state.health = m.payload as Health;
      renderHealth();
    }
  } else if (p.kind === "presence") {
    if (m.ok) applySnapshot({ health: state.health, presence: (m.payload as { presence: PresenceEntry[] }).presence });
  } else if (p.kind === "pairing.list" || p.kind === "pairing.approve" || p.kind === "pairing.reject") {
    onPairingRes(p, m);
  } else if (p.kind === "send") {
    const out = $("send-result");
    if (m.ok) {
      const sent = m.payload as SendResult;
      out.setAttribute("data-kind", "ok");
      out.textContent = `Sent via ${sent.provider} to ${sent.to} (message id ${sent.messageId})`;
      $<HTMLTextAreaElement>("send-message").value = "";
    } else {
      out.setAttribute("data-kind", "error");
      out.textContent = describeError(m.error);
    }
  }
}

export function onMessage(m: RelayMessage): void {
  switch (m.type) {
    case "hello":
      return onHello(m);
    case "state":
      return setLink(m.state, m.detail);
    case "snapshot":
      applySnapshot(m);
      if (m.runs) mergeRuns(m.runs, false);
      return;
    case "pairing":
      return setPairing(m.requests);
    case "ack":
      return onAck(m);
    case "run":
      return onRun(m);
    case "res":
      return onRes(m);
    case "error":
      return console.warn("webchat:", m.message);
    case "event":
      if (m.event === "agent") return onAgentEvent(m.payload, m.sessionId);
      if (m.event === "presence") {
        for (const e of m.payload.upserted || []) state.presence.set(presenceKey(e), e);
        for (const e of m.payload.removed || []) state.presence.delete(presenceKey(e));
        return renderPresence();
      }
      if (m.event === "health") {
        state.health = m.payload;
        return renderHealth();
      }
  }
}
