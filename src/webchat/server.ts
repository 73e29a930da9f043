import { hostname } from "node:os";
import { silentLogger, type Logger } from "../log.ts";
import type { HelloOk } from "../protocol/index.ts";
import { serveApp, type Listening, type RuntimeName } from "../runtime/index.ts";
import { dialHost, isLoopback, listenOr } from "../core/net.ts";
import { sessionCookieName, WebAuth } from "./auth.ts";
import { sessionKeyPath } from "./session-key.ts";
import { mountWebChat } from "./http.ts";
import { Relay, type RelayLimits } from "./relay.ts";

/** A start-up failure with a message meant for the operator. */
export class WebChatStartError extends Error {}

export interface WebChatOptions {
  /** The gateway to relay to, e.g. ws://127.0.0.1:18789. */
  gatewayUrl: string;
  /** The gateway token: sent in `hello`, and the page's sign-in secret (on any bind). */
  token?: string;
  /** The state dir: the session signing key lives there, so sign-ins survive a restart. */
  stateDir?: string;
  /** How long a sign-in lasts (default 7 days). */
  sessionTtlMs?: number;
  bind: string;
  /** 0 = any free port. */
  port: number;
  log?: Logger;
  runtime?: RuntimeName;
  limits?: Partial<RelayLimits>;
  /** Alternative WebSocket constructor for the gateway link (`ws` on Node 20). */
  WebSocket?: typeof WebSocket;
}

export interface WebChat {
  readonly relay: Relay;
  /** Bind and serve, then connect to the gateway in the background. */
  start(): Promise<{ port: number; url: string }>;
  /** Resolves on the first `hello-ok`; rejects if the gateway refuses the handshake. */
  readonly connected: Promise<HelloOk>;
  /**
   * A one-time sign-in link to the page (`…/#code=…`, single use, 5 minutes); the plain
   * page URL when no sign-in is needed. Only after `start()`.
   */
  signInLink(): SignInLink;
  /**
   * End every sign-in and close every tab's socket now; with `newToken` (live token
   * rotation) the page's sign-in takes the new token. The relay's own gateway
   * connection keeps the token it was created with.
   */
  revokeAll(newToken?: string): void;
  /** Close every tab and the gateway link, stop serving. Idempotent. */
  stop(): Promise<void>;
}

export interface SignInLink {
  url: string;
  /** When the link's code expires (ms since epoch); absent when WebChat needs no sign-in. */
  expiresAt?: number;
}

/** The URL a person opens; a wildcard bind is shown as loopback. */
export function pageUrl(bind: string, port: number): string {
  return `http://${dialHost(bind)}:${port}`;
}

/** Where WebChat beside a gateway reaches it: a wildcard bind is reached on loopback. */
export function gatewayUrlFor(bind: string, port: number): string {
  return `ws://${dialHost(bind)}:${port}`;
}

/** Compose WebChat: the page, the relay socket, one gateway connection. Nothing runs until `start()`. */
export function createWebChat(opts: WebChatOptions): WebChat {
  const log = opts.log ?? silentLogger;
  const loopbackOnly = isLoopback(opts.bind);
  if (!loopbackOnly && !opts.token) {
    throw new WebChatStartError(
      `refusing to serve WebChat on ${opts.bind} without a token: anyone who can reach it could drive your accounts. ` +
        `Set a token (the page then asks for it), or bind 127.0.0.1 and use an SSH tunnel.`,
    );
  }
  const relay = new Relay({
    url: opts.gatewayUrl,
    ...(opts.token ? { token: opts.token } : {}),
    log,
    host: hostname(),
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.WebSocket ? { WebSocket: opts.WebSocket } : {}),
  });
  // With a token, every browser signs in, whatever the bind: a local process without
  // the token must not reach the gateway through the relay.
  const auth = opts.token
    ? new WebAuth({
        token: opts.token,
        ...(opts.stateDir ? { keyFile: sessionKeyPath(opts.stateDir) } : {}),
        ...(opts.sessionTtlMs ? { ttlMs: opts.sessionTtlMs } : {}),
      })
    : null;
  let listening: Listening | null = null;
  let page: string | null = null;
  let stopping: Promise<void> | null = null;
  let resolveConnected!: (h: HelloOk) => void;
  let rejectConnected!: (e: Error) => void;
  const connected = new Promise<HelloOk>((res, rej) => {
    resolveConnected = res;
    rejectConnected = rej;
  });
  connected.catch(() => {});

  return {
    relay,
    connected,
    async start() {
      const onRefused = (why: string, detail?: Record<string, unknown>) => log.warn(`refused a WebChat request (${why})`, detail);
      const adapter = await serveApp(mountWebChat, { relay, auth, loopbackOnly, onRefused }, opts.runtime);
      listening = await listenOr(
        () => adapter.listen({ hostname: opts.bind, port: opts.port, maxPayload: relay.maxMessageBytes }),
        (inUse, message) =>
          new WebChatStartError(
            inUse ? `WebChat port ${opts.port} on ${opts.bind} is already in use: pick another port` : `WebChat cannot listen on ${opts.bind}:${opts.port}: ${message}`,
          ),
      );
      if (auth) auth.cookieName = sessionCookieName(listening.port);
      relay.start().then(resolveConnected, rejectConnected);
      page = pageUrl(opts.bind, listening.port);
      return { port: listening.port, url: page };
    },
    signInLink() {
      if (!page) throw new Error("WebChat is not started");
      if (!auth) return { url: `${page}/` };
      const { code, expiresAt } = auth.issueCode();
      return { url: `${page}/#code=${code}`, expiresAt };
    },
    revokeAll(newToken) {
      auth?.revokeAll(newToken);
    },
    stop() {
      stopping ??= (async () => {
        relay.stop();
        const closing = listening?.close() ?? Promise.resolve();
        await Promise.race([closing, new Promise((r) => setTimeout(r, 1_000))]);
      })();
      return stopping;
    },
  };
}

/**
 * Whether a one-time sign-in link may go to stdout: only a terminal is read by a person
 * and gone after. Under launchd stdout is a file (logs/gateway.stdout.log), under systemd
 * the journal, where a working code would sit for its 5 minutes; there the owner asks
 * for one (`clawdis webchat --link`). `CLAWDIS_PRINT_SIGNIN_LINK=1` prints it anyway
 * (tests and scripts that read a spawned gateway's stdout through a pipe).
 */
export function signInLinkOnStdout(env: Record<string, string | undefined> = process.env, isTTY = process.stdout.isTTY === true): boolean {
  return isTTY || env.CLAWDIS_PRINT_SIGNIN_LINK === "1";
}

/**
 * Print a one-time sign-in link on stdout only, and only when `show` (a terminal, see
 * signInLinkOnStdout): the log file gets just the fact, since the code in the link works
 * for 5 minutes. Otherwise only how to get one is said.
 */
export function printSignInLink(
  webchat: WebChat,
  log: Logger,
  opts: { show?: boolean; write?: (line: string) => void } = {},
): void {
  if (!(opts.show ?? signInLinkOnStdout())) {
    log.info("webchat: sign-in needed; run `clawdis webchat --link` for a one-time sign-in link (not printed: stdout is not a terminal)");
    return;
  }
  const { url } = webchat.signInLink();
  (opts.write ?? ((l: string) => void process.stdout.write(l)))(`WebChat sign-in link (one use, valid 5 minutes): ${url}\n`);
  log.info("webchat: printed a one-time sign-in link on stdout; `clawdis webchat --link` prints a fresh one");
}
