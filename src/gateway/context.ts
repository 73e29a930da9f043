import type { AgentRunner } from "../agent/runner.ts";
import type { Reclaim } from "./reclaim.ts";
import type { Config } from "../config/schema.ts";
import type { Delivery, ErrorReplies } from "../delivery/index.ts";
import type { InboundFlow, InboundGate, TurnContext } from "../inbound/index.ts";
import type { Logger } from "../log.ts";
import type { ClientInfo, StateVersion } from "../protocol/index.ts";
import type { Providers } from "../providers/index.ts";
import type { AuthLimiter } from "../core/auth-limit.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { HealthState } from "./health.ts";
import type { Journal } from "./journal.ts";
import type { Ledger } from "./ledger.ts";
import type { AgentRuns } from "../runs/index.ts";
import type { Presence } from "./presence.ts";
import type { PendingInboundStore } from "./inbound-pending.ts";
import type { DiskWatch } from "../store/disk-full.ts";
import type { InboundHold } from "./disk-hold.ts";
import type { GatewayCounters } from "../metrics/counters.ts";
import type { ConfigReloadResult } from "../protocol/index.ts";

/** The gateway's state, created once in server.ts and passed down; no singletons. */
export interface GatewayContext {
  readonly config: Config;
  readonly log: Logger;
  readonly host: string;
  readonly ip: string;
  readonly startedAt: number;
  readonly build: { version: string; commit: string };
  readonly presence: Presence;
  readonly health: HealthState;
  readonly providers: Providers;
  readonly agent: AgentRunner;
  readonly broadcaster: Broadcaster;
  readonly journal: Journal;
  /** Agent runs: start or join by idempotency key (also across restarts), wait by runId. */
  readonly agentRuns: AgentRuns;
  readonly authLimiter: AuthLimiter;
  /** Every provider send: idempotent, split, paced, durable while queued. */
  readonly delivery: Delivery;
  /** The one short message a chat gets when its message could not be answered (`inbound.errorReply`). */
  readonly errorReplies: ErrorReplies;
  /** Inbound policy and the pairing store behind `pairing.*`. */
  readonly gate: InboundGate;
  /** What the agent is told about each chat message (group lines in memory, voice notes transcribed). */
  readonly turnContext?: TurnContext;
  /** Every message's record; also send idempotency and inbound de-duplication. */
  readonly ledger: Ledger;
  /** Issue 21: each chat's line, albums and bursts, late messages (src/inbound/flow.ts). */
  readonly inboundFlow: InboundFlow;
  /** Inbound messages whose run has not ended (kept for a restart). */
  readonly inboundPending: PendingInboundStore;
  /** Whether the state dir's disk is full (ENOSPC), and the messages held meanwhile. */
  readonly disk: DiskWatch;
  readonly inboundHold: InboundHold;
  readonly clients: () => number;
  /** Joins and leaves since the last summary line (per-connection lines are debug). */
  readonly clientStats: { joined: number; left: number };
  /** Counts large frames written; collects once a burst of them is over (reclaim.ts). */
  readonly reclaim: Reclaim;
  /** The WhatsApp provider, created (and Baileys imported) on first use. */
  readonly whatsapp: () => Promise<import("../providers/whatsapp/index.ts").WhatsAppProvider>;
  readonly shuttingDown: () => boolean;
  /** Plain counters behind `GET /metrics`. */
  readonly metrics: GatewayCounters;
  /** Re-read the config file and apply it (`config.reload`, SIGHUP, the file watcher). */
  readonly reloadConfig: (trigger: string, callerConnId?: string) => ConfigReloadResult;
  stateVersion(): StateVersion;
}

/** Who is calling a method. */
export interface Caller {
  readonly connId: string;
  /** `hello.client.instanceId`, or one stable id for this connection when the client sent none. */
  readonly instanceId: string;
  /** The hello announced `presence-deltas`: deltas and the versioned list instead of the runbook's shapes. */
  readonly presenceDeltas: boolean;
  readonly client: ClientInfo;
  readonly remote: string;
}
