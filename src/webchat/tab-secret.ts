/**
 * The per-tab secret that, with the session cookie, makes a WebChat sign-in (issue 20 §2).
 * Cookies are not isolated by port: a page another local account serves on
 * 127.0.0.1:<any port> receives this WebChat's cookie. The secret lives in the page's
 * sessionStorage, which is per origin (port included), so another port never sees it; the
 * page presents it on every `/api/*` request (a header) and on `/ws` (a WebSocket
 * subprotocol, since a browser cannot set headers there). Shared by the backend and the page.
 */

/** The header that carries the secret on `/api/*`. */
export const TAB_SECRET_HEADER = "X-Clawdis-Tab";

/** The subprotocol the relay answers with; the secret rides as a second, never-echoed one. */
export const RELAY_PROTOCOL = "clawdis-webchat";
const SECRET_PROTOCOL_PREFIX = "clawdis-tab.";

/** What the page offers on `/ws`: runtimes echo the first entry, so the secret never comes back. */
export const relayProtocols = (secret: string): string[] => [RELAY_PROTOCOL, `${SECRET_PROTOCOL_PREFIX}${secret}`];

/** The secret in a `Sec-WebSocket-Protocol` header, if one was offered. */
export function secretFromProtocols(header: string | undefined): string | undefined {
  for (const part of (header ?? "").split(",")) {
    const p = part.trim();
    if (p.startsWith(SECRET_PROTOCOL_PREFIX)) return p.slice(SECRET_PROTOCOL_PREFIX.length);
  }
  return undefined;
}
