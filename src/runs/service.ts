import type { AgentRunner, RunCause, RunRequest } from "../agent/runner.ts";
import type { ToolUse } from "../agent/types.ts";
import type { AgentFinal, AgentParams, ProviderName } from "../protocol/index.ts";
import { Dedupe } from "./dedupe.ts";
import type { IdempotencyStore } from "./idempotency.ts";
import { RunRegistry } from "./registry.ts";

/** Run-request fields beyond what `AgentParams` says (those the service fills in itself excluded). */
export type RunExtras = Omit<Partial<RunRequest>, "message" | "timeoutMs" | "hold" | "to" | "sessionId" | "thinking">;

/** A run as its callers see it: the same for the first caller and every later one with its key. */
export interface AgentRun {
  runId: string;
  /** The final, after its reply was delivered (when the params asked for delivery). */
  done: Promise<AgentFinal>;
  /** Why it ended (`shutdown`: cut short by a gateway stop, not an outcome); never rejects. */
  cause: Promise<RunCause>;
  /** The tool calls it made, once it ended (none for a run known from before a restart); never rejects. */
  tools: Promise<ToolUse[]>;
}

export interface AgentRunsDeps {
  agent: Pick<AgentRunner, "start">;
  /** Delivers the reply when the params ask for it (src/delivery's `Delivery.deliver`). */
  deliver: (params: AgentParams, final: AgentFinal, via?: ProviderName, replyTo?: string) => Promise<AgentFinal>;
  idempotency: IdempotencyStore;
  /** `agent.timeoutMs` in force, for runs that ask for none. */
  defaultTimeoutMs: () => number;
}

export interface StartOptions {
  /** The provider a chat message came from: its reply goes back the same way. */
  via?: ProviderName;
  /** The chat message the reply answers (groups quote it). */
  replyTo?: string;
  /** What else the runner takes from a chat message (e.g. its media), passed through as is. */
  request?: RunExtras;
  /**
   * Called once the run is accepted (its message on disk, its key remembered), before the
   * run may emit anything: the `agent` method sends its ack here, so the ack is the first
   * frame of the run on that connection on every runtime.
   */
  onAccepted?: (runId: string) => void;
}

/**
 * Agent runs as one service: a key starts a run once (in memory for 5 minutes, on disk
 * across restarts), every run is findable by runId while it goes and for 10 minutes after
 * (`agent.wait`). Used by the `agent` method and by inbound chat messages; knows nothing
 * of sockets.
 */
export class AgentRuns {
  private readonly dedupe = new Dedupe<AgentRun & { release: () => void }>();
  readonly registry = new RunRegistry();

  constructor(private readonly deps: AgentRunsDeps) {}

  /** Start the run for `params.idempotencyKey`, or join the one that key already started. */
  async start(params: AgentParams, opts: StartOptions = {}): Promise<AgentRun> {
    const shared = this.dedupe.run(params.idempotencyKey, () => this.begin(params, opts));
    const run = await shared.value;
    opts.onAccepted?.(run.runId);
    // Only the caller that started it lets it go, and only after its own ack.
    if (shared.first) run.release();
    return { runId: run.runId, done: run.done, cause: run.cause, tools: run.tools };
  }

  /** Resolves when every run still going has settled, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
    return this.registry.settled(timeoutMs);
  }

  private async begin(params: AgentParams, opts: StartOptions): Promise<AgentRun & { release: () => void }> {
    const { deps } = this;
    const key = params.idempotencyKey;
    // Known from before a restart: the same runId, and its final (or why there is none).
    const prior = deps.idempotency.get("agent", key);
    if (prior?.runId) {
      const final: AgentFinal =
        prior.state === "done"
          ? (prior.result as AgentFinal)
          : { runId: prior.runId, status: "error", summary: "interrupted: the gateway restarted during this run" };
      const cause: RunCause = prior.state !== "done" ? "shutdown" : final.status === "ok" ? "ok" : "error";
      return { runId: prior.runId, done: Promise.resolve(final), cause: Promise.resolve(cause), tools: Promise.resolve([]), release: () => {} };
    }
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    // `timeout: 0` is "the configured default" (the macOS app's way of saying none).
    const timeoutMs = params.timeout ? Math.ceil(params.timeout * 1000) : deps.defaultTimeoutMs();
    const run = await deps.agent.start({
      ...opts.request,
      message: params.message,
      timeoutMs,
      hold,
      // `to: ""` is no destination.
      ...(params.to ? { to: params.to } : {}),
      ...(params.sessionId !== undefined ? { sessionId: params.sessionId } : {}),
      ...(params.thinking !== undefined ? { thinking: params.thinking } : {}),
    });
    try {
      await deps.idempotency.put({ key, kind: "agent", state: "pending", runId: run.runId, ts: Date.now() });
    } catch (err) {
      release();
      throw err;
    }
    const done = run.done
      .then((final) => deps.deliver(params, final, opts.via, opts.replyTo))
      .then(
        async (final) => {
          // A run cut short by shutdown is not an outcome: a retry after restart runs it again.
          const state = (await run.cause) === "shutdown" ? "failed" : "done";
          await deps.idempotency.put({ key, kind: "agent", state, runId: run.runId, result: final, ts: Date.now() });
          return final;
        },
        async (err) => {
          await deps.idempotency.put({ key, kind: "agent", state: "failed", runId: run.runId, ts: Date.now() });
          throw err;
        },
      );
    done.catch(() => {});
    this.registry.add(run.runId, done);
    return { runId: run.runId, done, cause: run.cause, tools: run.tools, release };
  }
}
