/**
 * Telling "the network could not reach the service" (DNS, refused, unreachable, timeout,
 * TLS, proxy) from every other failure, so that it is named as such instead of surfacing
 * as whatever the caller would have blamed next (a QR timeout, a bad token, a 408).
 */

/** errno and library codes that mean the connection itself failed. */
const NET_CODES = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "EPIPE",
  // undici (Node's fetch) and Bun's fetch / socket codes
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
  "UnableToConnect",
]);
const TLS_CODE = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED|DEPTH_ZERO|ERR_PROXY|ProxyTunnel|TLS)/;
const NET_TEXT = /getaddrinfo|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|Unable to connect|certificate|self[- ]signed|proxy|fetch failed|network is unreachable/i;

type ErrLike = { code?: unknown; message?: unknown; cause?: unknown; data?: unknown; error?: unknown; errors?: unknown };

/** The error and what it wraps (Boom's `data`, grammY's `error`, `cause`, AggregateError's `errors`), outermost first. */
function chain(err: unknown): ErrLike[] {
  const out: ErrLike[] = [];
  const seen = new Set<unknown>();
  let next: unknown = err;
  while (next && typeof next === "object" && !seen.has(next) && out.length < 8) {
    seen.add(next);
    const e = next as ErrLike;
    out.push(e);
    next = e.cause ?? e.data ?? e.error ?? (Array.isArray(e.errors) ? e.errors[0] : undefined);
  }
  return out;
}

/**
 * When `err` is a failure to connect, the innermost error's words (its code first), e.g.
 * "ENOTFOUND getaddrinfo ENOTFOUND web.whatsapp.com"; otherwise null.
 */
export function networkCause(err: unknown): string | null {
  const errs = chain(err);
  for (const e of [...errs].reverse()) {
    const code = typeof e.code === "string" ? e.code : "";
    const message = typeof e.message === "string" ? e.message : "";
    if (NET_CODES.has(code) || TLS_CODE.test(code)) return message.includes(code) ? message : `${code}${message ? ` ${message}` : ""}`;
  }
  for (const e of [...errs].reverse()) {
    const message = typeof e.message === "string" ? e.message : "";
    if (NET_TEXT.test(message)) return message;
  }
  return null;
}

/** The host of a URL (or the URL itself when it does not parse). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** "cannot reach <service> (<host>: <error>) — check the network" */
export function unreachable(service: string, host: string, cause: string): string {
  return `cannot reach ${service} (${host}: ${cause}) — check the network`;
}

/** The host an error says it tried (Bun's fetch sets `path` to the URL; Node's socket errors carry `address`/`port`). */
export function hostFromError(err: unknown): string | undefined {
  for (const e of chain(err) as { path?: unknown; address?: unknown; port?: unknown; hostname?: unknown }[]) {
    if (typeof e.path === "string" && /^[a-z]+:\/\//i.test(e.path)) return hostOf(e.path);
    if (typeof e.hostname === "string") return e.hostname;
    if (typeof e.address === "string") return typeof e.port === "number" ? `${e.address}:${e.port}` : e.address;
  }
  return undefined;
}
