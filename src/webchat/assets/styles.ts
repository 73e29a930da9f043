/** The page's only stylesheet: phone width first, light and dark from the system setting. */
export const APP_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9;
  --panel: #ffffff;
  --text: #1b1f24;
  --muted: #5c6672;
  --border: #d9dee4;
  --accent: #c2410c;
  --accent-text: #ffffff;
  --user: #fff1e8;
  --user-border: #f3c9ad;
  --bot: #ffffff;
  --code-bg: #eef1f4;
  --ok: #1a7f37;
  --ok-bg: #e6f4ea;
  --warn: #9a6700;
  --warn-bg: #fff4d6;
  --bad: #b42318;
  --bad-bg: #fde8e7;
  --focus: #2563eb;
  --radius: 10px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 16px;
  line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1115;
    --panel: #171a21;
    --text: #e6e8eb;
    --muted: #9aa4b2;
    --border: #2a2f3a;
    --accent: #f97316;
    --accent-text: #16110d;
    --user: #2a1d14;
    --user-border: #5a3a22;
    --bot: #1c2029;
    --code-bg: #0b0d11;
    --ok: #4ade80;
    --ok-bg: #12281a;
    --warn: #facc15;
    --warn-bg: #2b250f;
    --bad: #f87171;
    --bad-bg: #2e1414;
    --focus: #60a5fa;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body { background: var(--bg); color: var(--text); min-height: 100vh; }
[hidden] { display: none !important; }
h1, h2 { margin: 0; }
h1 { font-size: 1.2rem; }
h2 { font-size: 1rem; }
a { color: var(--focus); }
.vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -9999px; top: 0; background: var(--panel); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; top: .5rem; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }

button, input, select, textarea { font: inherit; color: inherit; }
input, select, textarea {
  background: var(--panel); border: 1px solid var(--border); border-radius: 8px; padding: .5rem .6rem; width: 100%;
}
textarea { resize: vertical; min-height: 2.6rem; }
button {
  background: var(--accent); color: var(--accent-text); border: 0; border-radius: 8px; padding: .55rem 1rem;
  font-weight: 600; cursor: pointer; white-space: nowrap;
}
button.secondary { background: transparent; color: var(--text); border: 1px solid var(--border); font-weight: 500; }
button:disabled { opacity: .5; cursor: not-allowed; }

.top {
  display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between;
  padding: .6rem 1rem; background: var(--panel); border-bottom: 1px solid var(--border);
}
.brand { display: flex; align-items: center; gap: .5rem; min-width: 0; }
.brand img { border-radius: 6px; }
.server { color: var(--muted); font-size: .85rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.status { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
.pill, .badges li {
  display: inline-flex; align-items: center; gap: .35rem; font-size: .8rem; padding: .15rem .6rem;
  border-radius: 999px; border: 1px solid var(--border); background: var(--panel);
}
.pill::before, .badges li::before { content: ""; width: .55rem; height: .55rem; border-radius: 50%; background: var(--muted); }
.pill[data-state="connected"] { color: var(--ok); background: var(--ok-bg); }
.pill[data-state="connected"]::before { background: var(--ok); }
.pill[data-state="connecting"], .pill[data-state="reconnecting"] { color: var(--warn); background: var(--warn-bg); }
.pill[data-state="connecting"]::before, .pill[data-state="reconnecting"]::before { background: var(--warn); }
.pill[data-state="disconnected"] { color: var(--bad); background: var(--bad-bg); }
.pill[data-state="disconnected"]::before { background: var(--bad); }
.badges { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem; }
.badges li[data-level="ok"] { color: var(--ok); background: var(--ok-bg); }
.badges li[data-level="ok"]::before { background: var(--ok); }
.badges li[data-level="warn"] { color: var(--warn); background: var(--warn-bg); }
.badges li[data-level="warn"]::before { background: var(--warn); }
.badges li[data-level="off"] { color: var(--muted); }

.banner {
  position: sticky; top: 0; z-index: 5;
  padding: .5rem 1rem; background: var(--warn-bg); color: var(--warn); border-bottom: 1px solid var(--border);
  font-weight: 600;
}
.banner[data-state="disconnected"] { background: var(--bad-bg); color: var(--bad); }

.layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; padding: 1rem; max-width: 1200px; margin: 0 auto; }
@media (min-width: 900px) {
  .layout { grid-template-columns: minmax(0, 1fr) 320px; align-items: start; }
  .layout > .chat { height: calc(100vh - 6rem); min-height: 30rem; }
}
.panel, .chat { background: var(--panel); border: 1px solid var(--border); border-radius: var(--radius); }
.panel { padding: 1rem; }
.panel + .panel { margin-top: 1rem; }
.panel h2 { margin-bottom: .6rem; }
.panel-head { display: flex; justify-content: space-between; align-items: baseline; gap: .5rem; }
button.small { padding: .2rem .6rem; font-size: .8rem; }
.count { color: var(--muted); font-weight: 400; }

.chat { display: flex; flex-direction: column; height: min(80vh, 48rem); min-height: 24rem; }
.chat-head { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; padding: .75rem 1rem; border-bottom: 1px solid var(--border); }
.session { display: flex; align-items: center; gap: .5rem; flex-wrap: wrap; }
.session label { color: var(--muted); font-size: .9rem; }
.session select { width: auto; max-width: 12rem; }
.transcripts { flex: 1; overflow-y: auto; padding: 1rem; min-height: 12rem; }
.transcript { display: flex; flex-direction: column; gap: .75rem; }
.empty { color: var(--muted); text-align: center; margin: 2rem 0; }

.msg { max-width: min(44rem, 92%); border-radius: var(--radius); padding: .55rem .8rem; border: 1px solid var(--border); overflow-wrap: anywhere; }
.msg.user { align-self: flex-end; background: var(--user); border-color: var(--user-border); white-space: pre-wrap; }
.msg.bot { align-self: flex-start; background: var(--bot); }
.msg .meta { display: block; font-size: .75rem; color: var(--muted); margin-bottom: .2rem; white-space: normal; }
.msg .body > :first-child { margin-top: 0; }
.msg .body > :last-child { margin-bottom: 0; }
.msg .body p { margin: .4rem 0; }
.msg .body ul { margin: .4rem 0; padding-left: 1.3rem; }
.msg[data-status="running"] .body::after { content: "▍"; color: var(--accent); margin-left: 1px; }
.msg[data-status="error"] { border-color: var(--bad); }
.msg .err { color: var(--bad); font-weight: 600; margin: .3rem 0 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; background: var(--code-bg); padding: .05rem .3rem; border-radius: 4px; }
pre { background: var(--code-bg); padding: .6rem .75rem; border-radius: 8px; overflow-x: auto; margin: .4rem 0; }
pre code { background: none; padding: 0; }

.composer { display: flex; flex-wrap: wrap; gap: .35rem .5rem; padding: .75rem 1rem .5rem; border-top: 1px solid var(--border); align-items: flex-end; }
.composer textarea { flex: 1; }
.hint { flex-basis: 100%; margin: 0; font-size: .75rem; color: var(--muted); }

.presence { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: .5rem; }
.presence li { border: 1px solid var(--border); border-radius: 8px; padding: .45rem .6rem; overflow-wrap: anywhere; }
.presence .host { font-weight: 600; }
.presence .mode { font-size: .75rem; border-radius: 999px; padding: .05rem .45rem; margin-left: .35rem; background: var(--code-bg); color: var(--muted); }
.presence li[data-mode="gateway"] { border-color: var(--accent); }
.presence .detail { display: block; font-size: .8rem; color: var(--muted); }

.send-form { display: grid; gap: .35rem; }
.send-form label { font-size: .9rem; color: var(--muted); margin-top: .25rem; }
.send-form button { margin-top: .5rem; justify-self: start; }
.result { margin: .4rem 0 0; min-height: 1.2em; font-size: .9rem; }
.result[data-kind="ok"] { color: var(--ok); }
.result[data-kind="error"], .error { color: var(--bad); font-weight: 600; }

.login { display: flex; justify-content: center; padding: 2rem 1rem; }
.login form { max-width: 26rem; width: 100%; display: grid; gap: .5rem; }

@media (prefers-reduced-motion: no-preference) {
  .msg[data-status="running"] .body::after { animation: blink 1s steps(1) infinite; }
  @keyframes blink { 50% { opacity: 0; } }
}
`;
