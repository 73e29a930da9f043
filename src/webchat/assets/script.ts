/**
 * The page's script, plain browser JavaScript kept as a string so every runtime (and the
 * compiled binary) embeds it without a bundler step. It never parses HTML: every piece
 * of text (messages, replies, presence) reaches the DOM as text nodes (markdown.ts builds
 * the reply's elements). The CSP's Trusted Types rule enforces that.
 * (The source avoids backticks and "${".)
 */
export const APP_JS = String.raw`(function () {
"use strict";

var $ = function (id) { return document.getElementById(id); };

var md = window.ClawdisMarkdown;
var h = md.h;
var renderMarkdown = md.render;

// ---------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------
var MAX_RUNS = 500;
var MAX_RUN_TEXT = 200000;
var MAX_SESSIONS = 50;

var state = {
  ws: null,
  retry: 0,
  link: "connecting",
  health: null,
  presence: new Map(),
  sessions: new Map(),
  current: "main",
  runs: new Map(),
  pending: new Map(),
  nextId: 0
};

function store(key, value) {
  try { localStorage.setItem("clawdis.webchat." + key, JSON.stringify(value)); } catch (e) {}
}
function load(key, fallback) {
  try {
    var v = localStorage.getItem("clawdis.webchat." + key);
    return v === null ? fallback : JSON.parse(v);
  } catch (e) {
    return fallback;
  }
}

// ---------------------------------------------------------------------------------
// Sessions and transcript
// ---------------------------------------------------------------------------------
function ensureSession(id) {
  var s = state.sessions.get(id);
  if (s) return s;
  var empty = h("p", { class: "empty", text: "No messages in this session yet." });
  var box = h("div", { class: "transcript", "data-session": id }, empty);
  box.hidden = id !== state.current;
  $("transcripts").append(box);
  var opt = h("option", { text: id });
  opt.value = id;
  $("session").append(opt);
  s = { id: id, box: box, opt: opt, empty: empty, unread: false };
  state.sessions.set(id, s);
  if (id === state.current) $("session").value = id;
  store("sessions", Array.from(state.sessions.keys()).slice(-MAX_SESSIONS));
  return s;
}

function selectSession(id) {
  ensureSession(id);
  state.current = id;
  state.sessions.forEach(function (s) {
    s.box.hidden = s.id !== id;
    if (s.id === id && s.unread) {
      s.unread = false;
      s.opt.textContent = s.id;
    }
  });
  $("session").value = id;
  store("session", id);
  scrollDown();
}

function markActivity(s) {
  if (s.id !== state.current && !s.unread) {
    s.unread = true;
    s.opt.textContent = s.id + " (new)";
  }
}

function addTo(s, node) {
  s.empty.hidden = true;
  s.box.append(node);
}

function nearBottom() {
  var t = $("transcripts");
  return t.scrollHeight - t.scrollTop - t.clientHeight < 80;
}
function scrollDown() {
  var t = $("transcripts");
  t.scrollTop = t.scrollHeight;
}

function userBubble(text) {
  return h("article", { class: "msg user", "aria-label": "You" }, h("span", { class: "meta", text: "you" }), text);
}

function newRun(runId, sessionId, origin) {
  var meta = h("span", { class: "meta" });
  var body = h("div", { class: "body" });
  var err = h("p", { class: "err" });
  err.hidden = true;
  var art = h("article", { class: "msg bot", "aria-label": "Agent" }, meta, body, err);
  var run = { runId: runId, sessionId: sessionId, art: art, meta: meta, body: body, err: err, text: "", status: "running", origin: origin, user: null, timer: null };
  if (runId) remember(run);
  paint(run);
  return run;
}

function remember(run) {
  state.runs.set(run.runId, run);
  // The page is bounded too: the oldest runs leave the DOM.
  while (state.runs.size > MAX_RUNS) {
    var oldest = state.runs.values().next().value;
    state.runs.delete(oldest.runId);
    oldest.art.remove();
    if (oldest.user) oldest.user.remove();
  }
}

function paint(run) {
  var stick = nearBottom();
  renderMarkdown(run.text, run.body);
  run.art.setAttribute("data-status", run.status);
  run.art.setAttribute("aria-busy", run.status === "running" ? "true" : "false");
  var where = run.origin === "elsewhere" ? " · started elsewhere" : run.origin === "tab" ? " · from another tab" : "";
  var st = run.status === "running" ? " · streaming…" : run.status === "error" ? " · failed" : "";
  run.meta.textContent = "agent" + where + st;
  if (stick) scrollDown();
}

function schedulePaint(run) {
  if (run.timer) return;
  run.timer = setTimeout(function () {
    run.timer = null;
    paint(run);
  }, 30);
}

function finish(run, status, error) {
  run.status = status;
  if (error) {
    run.err.textContent = error;
    run.err.hidden = false;
  }
  schedulePaint(run);
}

// ---------------------------------------------------------------------------------
// Health, presence, link state
// ---------------------------------------------------------------------------------
function renderHealth() {
  var ul = $("health");
  ul.replaceChildren();
  var hh = state.health;
  if (!hh) return;
  function badge(key, text, level) {
    ul.append(h("li", { "data-key": key, "data-level": level, text: text }));
  }
  if (hh.web && hh.web.linked) badge("whatsapp", "WhatsApp linked", "ok");
  else badge("whatsapp", "WhatsApp not linked", "warn");
  if (hh.telegram && hh.telegram.configured) badge("telegram", "Telegram configured", "ok");
  else badge("telegram", "Telegram not configured", "off");
  badge("agent", "Agent: " + ((hh.agent && hh.agent.backend) || "unknown"), "ok");
}

function presenceKey(e) {
  return e.instanceId || e.host;
}

function renderPresence() {
  var list = Array.from(state.presence.values()).sort(function (a, b) {
    if ((a.mode === "gateway") !== (b.mode === "gateway")) return a.mode === "gateway" ? -1 : 1;
    return String(a.host).localeCompare(String(b.host));
  });
  var ul = $("presence");
  ul.replaceChildren();
  list.forEach(function (e) {
    var detail = [e.ip, e.version ? "v" + e.version : "", e.platform, e.text].filter(Boolean).join(" · ");
    var li = h("li", { "data-mode": String(e.mode), "data-instance": String(presenceKey(e)) },
      h("span", { class: "host", text: e.host }),
      h("span", { class: "mode", text: e.mode }),
      h("span", { class: "detail", text: detail }));
    ul.append(li);
  });
  $("presence-count").textContent = "(" + list.length + ")";
}

var LINK_TEXT = { connected: "connected", connecting: "connecting…", reconnecting: "reconnecting…", disconnected: "disconnected" };

function setLink(link, detail) {
  state.link = link;
  var pill = $("link");
  pill.setAttribute("data-state", link);
  pill.textContent = LINK_TEXT[link] || link;
  var banner = $("banner");
  if (link === "connected") banner.hidden = true;
  else {
    var lead = link === "reconnecting" ? "Reconnecting… " : link === "connecting" ? "Connecting to the gateway… " : "Not connected to the gateway. ";
    banner.textContent = lead + (detail ? "(" + detail + ")" : "");
    banner.setAttribute("data-state", link);
    banner.hidden = false;
  }
  var usable = link === "connected";
  $("composer-send").disabled = !usable;
  $("send-button").disabled = !usable;
}

function applySnapshot(m) {
  state.health = m.health;
  state.presence = new Map();
  (m.presence || []).forEach(function (e) { state.presence.set(presenceKey(e), e); });
  renderHealth();
  renderPresence();
}

// ---------------------------------------------------------------------------------
// Messages from the backend
// ---------------------------------------------------------------------------------
function onHello(m) {
  var server = m.server;
  $("server").textContent = server ? "gateway " + server.host + " · v" + server.version : "";
  applySnapshot(m);
  mergeRuns(m.runs || [], true);
  setLink(m.state, m.detail);
}

/**
 * Fold the backend's recent runs in: a new tab gets the conversation so far, and a tab
 * that reconnected keeps what it shows and catches up on what it missed. After a fresh
 * hello, a run still streaming here that the backend no longer knows was cut off.
 */
function mergeRuns(runs, interruptUnknown) {
  var known = new Set();
  runs.forEach(function (r) {
    known.add(r.runId);
    var run = state.runs.get(r.runId);
    if (!run) {
      var s = ensureSession(r.sessionId || "main");
      var user = null;
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
  });
  if (!interruptUnknown) return;
  state.runs.forEach(function (run) {
    if (run.status === "running" && run.runId && !known.has(run.runId)) finish(run, "error", "interrupted: the connection dropped while this reply streamed");
  });
}

function onAgentEvent(ev, sessionId) {
  var data = ev.data || {};
  var run = state.runs.get(ev.runId);
  if (!run) {
    var sid = sessionId || (ev.stream === "lifecycle" && typeof data.sessionId === "string" ? data.sessionId : "main");
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
  }
}

function onAck(m) {
  var p = state.pending.get(m.id);
  if (!p || p.kind !== "agent") return;
  var existing = state.runs.get(m.runId);
  if (existing && existing !== p.run) {
    // Events overtook the ack: keep the bubble that already streams, drop the placeholder.
    p.run.art.remove();
    p.run.user.after(existing.art);
    existing.user = p.run.user;
    existing.origin = "self";
    p.run = existing;
    schedulePaint(existing);
  } else {
    p.run.runId = m.runId;
    remember(p.run);
  }
}

function onRun(m) {
  var run = state.runs.get(m.runId);
  if (run && run.user) return;
  if (!run) {
    run = newRun(m.runId, m.sessionId, "tab");
    addTo(ensureSession(m.sessionId), run.art);
  } else {
    run.origin = "tab";
    schedulePaint(run);
  }
  var user = userBubble(m.message);
  run.art.before(user);
  run.user = user;
  markActivity(ensureSession(run.sessionId));
}

function describeError(err) {
  return (err && err.code ? err.code + ": " : "") + ((err && err.message) || "failed");
}

function onRes(m) {
  var p = state.pending.get(m.id);
  if (!p) return;
  state.pending.delete(m.id);
  if (p.kind === "agent") {
    var run = p.run;
    if (!m.ok) finish(run, "error", describeError(m.error));
    else if (m.payload && m.payload.status === "error") finish(run, "error", m.payload.summary || "the run failed");
    else {
      if (!run.text && m.payload && m.payload.summary) run.text = m.payload.summary;
      var d = m.payload && m.payload.delivery;
      finish(run, "ok", d && d.error ? "not delivered: " + d.error : undefined);
    }
  } else if (p.kind === "health") {
    if (m.ok) {
      state.health = m.payload;
      renderHealth();
    }
  } else if (p.kind === "presence") {
    if (m.ok) applySnapshot({ health: state.health, presence: m.payload.presence });
  } else if (p.kind === "send") {
    var out = $("send-result");
    if (m.ok) {
      out.setAttribute("data-kind", "ok");
      out.textContent = "Sent via " + m.payload.provider + " to " + m.payload.to + " (message id " + m.payload.messageId + ")";
      $("send-message").value = "";
    } else {
      out.setAttribute("data-kind", "error");
      out.textContent = describeError(m.error);
    }
  }
}

function onMessage(m) {
  switch (m.type) {
    case "hello": return onHello(m);
    case "state": return setLink(m.state, m.detail);
    case "snapshot":
      applySnapshot(m);
      if (m.runs) mergeRuns(m.runs, false);
      return;
    case "ack": return onAck(m);
    case "run": return onRun(m);
    case "res": return onRes(m);
    case "error": return console.warn("webchat:", m.message);
    case "event":
      if (m.event === "agent") return onAgentEvent(m.payload, m.sessionId);
      if (m.event === "presence") {
        (m.payload.upserted || []).forEach(function (e) { state.presence.set(presenceKey(e), e); });
        (m.payload.removed || []).forEach(function (e) { state.presence.delete(presenceKey(e)); });
        return renderPresence();
      }
      if (m.event === "health") {
        state.health = m.payload;
        return renderHealth();
      }
  }
}

// ---------------------------------------------------------------------------------
// The socket to the WebChat backend (never to the gateway itself)
// ---------------------------------------------------------------------------------
function wsOpen() {
  return state.ws !== null && state.ws.readyState === 1;
}

function send(msg) {
  if (!wsOpen()) return false;
  state.ws.send(JSON.stringify(msg));
  return true;
}

function failPending(why) {
  state.pending.forEach(function (p, id) {
    onRes({ type: "res", id: id, ok: false, error: { code: "UNAVAILABLE", message: why } });
  });
}

function connect() {
  var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  state.ws = ws;
  ws.onopen = function () { state.retry = 0; };
  ws.onmessage = function (e) {
    var m;
    try { m = JSON.parse(e.data); } catch (err) { return; }
    onMessage(m);
  };
  ws.onclose = function () {
    if (state.ws !== ws) return;
    state.ws = null;
    failPending("the connection to WebChat was lost");
    setLink("reconnecting", "lost the connection to the WebChat server");
    retryLater();
  };
}

function retryLater() {
  var delay = Math.min(5000, 500 * Math.pow(2, state.retry++)) * (0.5 + Math.random() / 2);
  setTimeout(start, delay);
}

function start() {
  fetch("/api/session", { cache: "no-store", credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (info) {
      if (info.auth === "token" && !info.authenticated) {
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
    .catch(function () {
      setLink("reconnecting", "the WebChat server is not answering");
      retryLater();
    });
}

// ---------------------------------------------------------------------------------
// Controls
// ---------------------------------------------------------------------------------
function nextId() {
  state.nextId += 1;
  return "r" + state.nextId;
}

function submitOnEnter(textarea, form) {
  textarea.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
}

function sendAgent(text) {
  var s = ensureSession(state.current);
  var id = nextId();
  var user = userBubble(text);
  addTo(s, user);
  var run = newRun(null, s.id, "self");
  run.user = user;
  addTo(s, run.art);
  scrollDown();
  state.pending.set(id, { kind: "agent", run: run });
  if (!send({ type: "agent", id: id, message: text, sessionId: s.id })) {
    state.pending.delete(id);
    finish(run, "error", "UNAVAILABLE: not connected");
  }
}

function init() {
  var saved = load("sessions", []);
  state.current = load("session", "main") || "main";
  ["main"].concat(Array.isArray(saved) ? saved : []).forEach(function (id) {
    if (typeof id === "string" && id) ensureSession(id);
  });
  selectSession(state.current);

  var input = $("composer-input");
  var composer = $("composer");
  submitOnEnter(input, composer);
  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim() || state.link !== "connected" || !wsOpen()) return;
    input.value = "";
    sendAgent(text);
  });

  $("session").addEventListener("change", function (e) { selectSession(e.target.value); });
  $("new-session").addEventListener("click", function () {
    var d = new Date();
    var pad = function (n) { return String(n).padStart(2, "0"); };
    var id = "chat-" + d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + "-" + pad(d.getHours()) + pad(d.getMinutes()) + pad(d.getSeconds());
    selectSession(id);
    input.focus();
  });

  $("refresh").addEventListener("click", function () {
    var a = nextId();
    var b = nextId();
    state.pending.set(a, { kind: "health" });
    state.pending.set(b, { kind: "presence" });
    if (!send({ type: "health", id: a }) || !send({ type: "system-presence", id: b })) {
      state.pending.delete(a);
      state.pending.delete(b);
    }
  });

  var sendForm = $("send-form");
  submitOnEnter($("send-message"), sendForm);
  sendForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var to = $("send-to").value.trim();
    var message = $("send-message").value;
    var out = $("send-result");
    if (!to || !message.trim()) return;
    var id = nextId();
    var msg = { type: "send", id: id, to: to, message: message };
    if ($("send-provider").value) msg.provider = $("send-provider").value;
    state.pending.set(id, { kind: "send" });
    out.setAttribute("data-kind", "pending");
    out.textContent = "Sending…";
    if (!send(msg)) onRes({ type: "res", id: id, ok: false, error: { code: "UNAVAILABLE", message: "not connected" } });
  });

  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var field = $("login-token");
    fetch("/api/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: field.value })
    }).then(function (r) {
      if (r.ok) {
        field.value = "";
        $("login-error").textContent = "";
        start();
        return;
      }
      return r.json().catch(function () { return {}; }).then(function (j) {
        $("login-error").textContent = j.error || "sign-in failed (" + r.status + ")";
      });
    });
  });

  setLink("connecting", "");
  var link = /^#code=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!link) return start();
  // A one-time sign-in link: trade its code for the session cookie, and drop it from
  // the address bar and history (it is spent either way).
  history.replaceState(null, "", location.pathname + location.search);
  fetch("/api/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code: link[1] })
  }).then(function (r) {
    if (r.ok) return;
    return r.json().catch(function () { return {}; }).then(function (j) {
      $("login-error").textContent = j.error || "this sign-in link did not work (" + r.status + ")";
    });
  }).catch(function () {}).then(start);
}

init();
})();
`;
