/** The page: static markup only. No inline script or style (the CSP forbids both). */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>clawdis WebChat</title>
<link rel="icon" href="/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/markdown.js" defer></script>
<script src="/app.js" defer></script>
</head>
<body>
<a class="skip" href="#composer-input">Skip to the message box</a>
<header class="top">
  <div class="brand">
    <img src="/icon.svg" alt="" width="28" height="28">
    <h1>clawdis</h1>
    <span id="server" class="server"></span>
  </div>
  <div class="status">
    <span id="link" class="pill" data-state="connecting" role="status" aria-live="polite">connecting…</span>
    <ul id="health" class="badges" aria-label="Gateway health"></ul>
  </div>
</header>
<div id="banner" class="banner" role="alert" hidden></div>

<section id="login" class="login" hidden aria-labelledby="login-title">
  <form id="login-form" class="panel">
    <h2 id="login-title">Sign in</h2>
    <p>This gateway has a token. Enter it to continue, or open a fresh sign-in link from <code>clawdis webchat --link</code>.</p>
    <label for="login-token">Gateway token</label>
    <input id="login-token" type="password" autocomplete="current-password" required>
    <button type="submit">Sign in</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
</section>

<main id="app" class="layout">
  <section class="chat" aria-labelledby="chat-title">
    <div class="chat-head">
      <h2 id="chat-title">Chat</h2>
      <div class="session">
        <label for="session">Session</label>
        <select id="session"></select>
        <button id="new-session" type="button" class="secondary">New session</button>
      </div>
    </div>
    <div id="transcripts" class="transcripts" role="log" aria-live="polite" aria-label="Conversation" tabindex="0"></div>
    <form id="composer" class="composer">
      <label for="composer-input" class="vh">Message to the agent</label>
      <textarea id="composer-input" rows="2" maxlength="100000" placeholder="Message the agent" aria-describedby="composer-hint" required></textarea>
      <button id="composer-send" type="submit">Send</button>
      <p id="composer-hint" class="hint">Enter to send · Shift+Enter for a new line</p>
    </form>
  </section>

  <aside class="side">
    <section class="panel" aria-labelledby="presence-title">
      <div class="panel-head">
        <h2 id="presence-title">Presence <span id="presence-count" class="count"></span></h2>
        <button id="refresh" type="button" class="secondary small" aria-label="Refresh presence and health">Refresh</button>
      </div>
      <ul id="presence" class="presence"></ul>
    </section>

    <section class="panel" aria-labelledby="send-title">
      <h2 id="send-title">Send through a provider</h2>
      <form id="send-form" class="send-form">
        <label for="send-to">To</label>
        <input id="send-to" type="text" inputmode="tel" autocomplete="off" placeholder="+15551234567 or a Telegram chat id" maxlength="256" required>
        <label for="send-provider">Provider</label>
        <select id="send-provider">
          <option value="">automatic</option>
          <option value="whatsapp">WhatsApp</option>
          <option value="telegram">Telegram</option>
        </select>
        <label for="send-message">Message</label>
        <textarea id="send-message" rows="3" maxlength="65536" required></textarea>
        <button id="send-button" type="submit">Send message</button>
        <p id="send-result" class="result" role="status" aria-live="polite"></p>
      </form>
    </section>
  </aside>
</main>
</body>
</html>
`;

/** The icon, also the header logo. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#d9480f"/><path d="M9 11c0-2 1.5-3.5 3.5-3.5S16 9 16 11M16 11c0-2 1.5-3.5 3.5-3.5S23 9 23 11M8 15h16v3a8 8 0 0 1-16 0z" fill="none" stroke="#fff" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>
`;
