import { GatewayClient, type ClientState } from "../client/index.ts";
import type { Logger } from "../log.ts";
import { CloseCode, type AgentEvent, type Health, type HelloOk, type PresenceEvent } from "../protocol/index.ts";
import type { WireSocket } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { relayAgent } from "./agent.ts";
import type { BrowserMessage, LinkState, RelayMessage } from "./messages.ts";
import { PairingWatch } from "./pairing.ts";
import { RecentRuns } from "./runs.ts";
import { decodeTabMessage, DEFAULT_LIMITS, Tab, toRelayError, type RelayLimits, type TabHandler } from "./tab.ts";

export { DEFAULT_LIMITS, type RelayLimits, type TabHandler } from "./tab.ts";

export interface RelayOptions {
  /** Gateway URL, e.g. ws://127.0.0.1:18789. */
  url: string;
  /** Sent in `hello.auth.token`; never leaves this process otherwise. */
  token?: string;
  log: Logger;
  limits?: Partial<RelayLimits>;
  /** Alternative WebSocket constructor (`ws` on Node 20). */
  WebSocket?: typeof WebSocket;
  /** Host reported in presence. */
  host?: string;
}

/** A refused handshake (wrong token) is retried this often, in case the gateway's config changes. */
const REFUSED_RETRY_MS = 10_000;

/**
 * The WebChat backend: exactly one GatewayClient, shared by every tab. Browser messages
 * are validated and mapped onto gateway requests; gateway events and the link's state
 * are fanned out to every tab.
 */
export class Relay {
  readonly client: GatewayClient;
  private readonly tabs = new Set<Tab>();
  private readonly runs = new RecentRuns();
  private readonly pairing: PairingWatch;
  private readonly limits: RelayLimits;
  private link: LinkState = "connecting";
  private linkDetail: string | undefined;
  private presenceVersion = 0;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly log: Logger;
  private readonly url: string;

  constructor(opts: RelayOptions) {
    this.log = opts.log;
    this.url = opts.url;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.client = new GatewayClient({
      url: opts.url,
      ...(opts.token ? { token: opts.token } : {}),
      client: { name: "clawdis-webchat", version: VERSION, mode: "webchat", ...(opts.host ? { host: opts.host } : {}) },
      ...(opts.WebSocket ? { WebSocket: opts.WebSocket } : {}),
      onStateChange: (state, detail) => this.onClientState(state, detail),
      onHello: (hello) => this.onHello(hello),
      // The default refresh, then every tab gets the refreshed state.
      onGap: async (gap, client) => {
        this.log.info("event gap from the gateway: refreshing health and presence", gap);
        // A refused resume (the gateway restarted): runs it had in flight will not finish.
        if (gap.reason) this.runs.abandonRunning(`interrupted (${gap.reason})`);
        await client.refresh();
        this.broadcast(this.snapshot(gap.reason !== undefined));
      },
    });
    this.pairing = new PairingWatch(this.client, (requests) => this.broadcast({ type: "pairing", requests }));
    this.client.on("agent", (frame) => {
      const ev = frame.payload as AgentEvent;
      this.runs.onEvent(ev);
      const sessionId = this.runs.sessionOf(ev.runId);
      this.broadcast({ type: "event", event: "agent", payload: ev, ...(sessionId !== undefined ? { sessionId } : {}) });
    });
    this.client.on("presence", (frame) => {
      const version = frame.stateVersion?.presence;
      // The client skipped a delta older than its snapshot; so do the tabs.
      if (version !== undefined) {
        if (version <= this.presenceVersion) return;
        this.presenceVersion = version;
      }
      this.broadcast({
        type: "event",
        event: "presence",
        payload: frame.payload as PresenceEvent,
        ...(frame.stateVersion ? { stateVersion: frame.stateVersion } : {}),
      });
    });
    this.client.on("health", (frame) => this.broadcast({ type: "event", event: "health", payload: frame.payload as Health }));
    this.client.on("shutdown", (frame) => {
      const reason = (frame.payload as { reason?: string }).reason ?? "shutdown";
      // The socket closes right after: say so now, before the page tries to use it.
      this.setLink("reconnecting", `gateway shutting down (${reason})`);
    });
  }

  /** The per-message bound, for the runtime's frame limit. */
  get maxMessageBytes(): number {
    return this.limits.maxMessageBytes;
  }

  get tabCount(): number {
    return this.tabs.size;
  }

  get state(): LinkState {
    return this.link;
  }

  /**
   * Connect, waiting for the gateway as long as it takes. Resolves on the first
   * `hello-ok`; rejects only when the handshake is refused (wrong token, protocol).
   */
  async start(): Promise<HelloOk> {
    try {
      return await this.client.connect({ retry: true });
    } catch (err) {
      if (!this.stopped) this.onRefused(err as Error);
      throw err;
    }
  }

  /** Close every tab and the gateway connection. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const tab of this.tabs) tab.close(CloseCode.GOING_AWAY, "webchat shutting down");
    this.tabs.clear();
    this.pairing.poll(false);
    this.client.close();
  }

  /** A browser socket opened; returns its handler, or null when it was refused (and closed). */
  attach(sock: WireSocket): TabHandler | null {
    const tab = new Tab(sock, this.limits.maxBufferedBytes);
    if (this.stopped) {
      tab.close(CloseCode.TRY_AGAIN_LATER, "webchat shutting down");
      return null;
    }
    if (this.tabs.size >= this.limits.maxTabs) {
      this.log.warn("refused a browser connection: too many open", { max: this.limits.maxTabs });
      tab.close(CloseCode.TRY_AGAIN_LATER, `too many WebChat connections (max ${this.limits.maxTabs})`);
      return null;
    }
    this.tabs.add(tab);
    tab.send(this.helloFor());
    this.pairing.poll(true);
    return {
      onMessage: (data) => this.onTabMessage(tab, data),
      onClose: () => {
        tab.open = false;
        this.tabs.delete(tab);
        if (this.tabs.size === 0) this.pairing.poll(false);
      },
    };
  }

  private helloFor(): RelayMessage {
    const hello = this.client.hello;
    return {
      type: "hello",
      state: this.link,
      ...(this.linkDetail ? { detail: this.linkDetail } : {}),
      server: hello ? { version: hello.server.version, commit: hello.server.commit, host: hello.server.host } : null,
      health: this.client.health,
      presence: [...this.client.presence.values()],
      presenceVersion: this.presenceVersion,
      runs: this.runs.list(),
      pairing: this.pairing.current,
      limits: { maxMessageBytes: this.limits.maxMessageBytes },
    };
  }

  private snapshot(withRuns = false): RelayMessage {
    return {
      type: "snapshot",
      health: this.client.health,
      presence: [...this.client.presence.values()],
      presenceVersion: this.presenceVersion,
      ...(withRuns ? { runs: this.runs.list() } : {}),
    };
  }

  /** Serialize once for every tab. */
  private broadcast(msg: RelayMessage): void {
    if (this.tabs.size === 0) return;
    const frame = JSON.stringify(msg);
    for (const tab of this.tabs) tab.sendRaw(frame);
  }

  private setLink(state: LinkState, detail?: string): void {
    if (this.link === state && this.linkDetail === detail) return;
    this.link = state;
    this.linkDetail = detail;
    this.broadcast({ type: "state", state, ...(detail ? { detail } : {}) });
  }

  private onClientState(state: ClientState, detail?: string): void {
    if (this.stopped) return;
    if (state === "connecting") this.setLink("connecting", `waiting for the gateway at ${this.url}`);
    else if (state === "reconnecting") {
      // A `shutdown` event already said why; keep that wording.
      // Runs in flight keep going: the client resumes the event stream on reconnect.
      if (this.link !== "reconnecting") this.setLink("reconnecting", detail ? `connection lost (${detail})` : "connection lost");
    } else if (state === "closed") {
      // The client gives up only on a refused handshake.
      this.onRefused(new Error(detail ?? "the gateway refused the connection"));
    }
    // "open" is handled in onHello, which has the snapshot.
  }

  private onHello(hello: HelloOk): void {
    this.presenceVersion = hello.snapshot.stateVersion.presence;
    this.log.info(`connected to the gateway at ${this.url}`, { host: hello.server.host, version: hello.server.version });
    this.broadcast(this.snapshot());
    this.setLink("connected");
    this.pairing.reconnected(this.tabs.size > 0);
  }

  private onRefused(err: Error): void {
    this.log.error(`the gateway refused WebChat: ${err.message}`, { retryInMs: REFUSED_RETRY_MS });
    this.setLink("disconnected", err.message);
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.client.connect({ retry: true }).catch((e: Error) => {
        if (!this.stopped) this.onRefused(e);
      });
    }, REFUSED_RETRY_MS);
  }

  private onTabMessage(tab: Tab, data: unknown): void {
    if (!tab.open) return;
    const msg = decodeTabMessage(tab, data, this.limits.maxMessageBytes);
    if (!msg) return;
    if (tab.inFlight >= this.limits.maxInFlightPerTab) {
      return tab.send({
        type: "res",
        id: msg.id,
        ok: false,
        error: { code: "UNAVAILABLE", message: `too many requests in flight (max ${this.limits.maxInFlightPerTab})`, retryable: true },
      });
    }
    tab.inFlight += 1;
    this.dispatch(tab, msg)
      .then((payload) => tab.send({ type: "res", id: msg.id, ok: true, payload }))
      .catch((err) => tab.send({ type: "res", id: msg.id, ok: false, error: toRelayError(err) }))
      .finally(() => {
        tab.inFlight -= 1;
      });
  }

  /** Map one validated browser message onto its gateway request. */
  private async dispatch(tab: Tab, msg: BrowserMessage): Promise<unknown> {
    switch (msg.type) {
      case "health":
        return this.client.request("health");
      case "system-presence":
        return this.client.request("system-presence");
      case "send":
        return this.client.request("send", {
          to: msg.to,
          message: msg.message,
          ...(msg.provider ? { provider: msg.provider } : {}),
          idempotencyKey: `webchat:${crypto.randomUUID()}`,
        });
      case "pairing.list":
        return this.pairing.refresh();
      case "pairing.approve":
      case "pairing.reject":
        return this.pairing.decide(msg.type, msg.provider, msg.code);
      case "agent":
        return relayAgent({ client: this.client, runs: this.runs, tab, broadcast: (m) => this.broadcast(m) }, msg);
    }
  }
}
