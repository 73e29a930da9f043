import { hostFromError, networkCause, unreachable } from "../core/unreachable.ts";
import { GatewayError, type AgentEvent, type AgentFinal, type InboundMedia } from "../protocol/index.ts";
import type { Logger } from "../log.ts";
import type { SessionState, SessionStore } from "./sessions.ts";
import { AgentFailure, failureShape } from "./failure.ts";
import { RunSlots } from "./run-slots.ts";
import { recordTool } from "./tool-uses.ts";
import type { AgentBackend, ToolUse } from "./types.ts";

export interface RunRequest {
  message: string;
  to?: string;
  sessionId?: string;
  /** Requested reasoning effort, passed to the backend as is (each backend decides what it means). */
  thinking?: string;
  /** Deadline for this run in ms, counted from when it starts executing. */
  timeoutMs: number;
  /** Files that came with a chat message (issue 16 §5), handed to the backend. */
  media?: InboundMedia[];
  /** What the agent is told about a chat message besides its words (src/agent/context.ts). */
  context?: string;
  /**
   * The run does not execute (and emits nothing) before this settles: the caller's
   * acknowledgement goes out first, however long its own bookkeeping takes.
   */
  hold?: Promise<unknown>;
}

/** How a run ended: its final's status says what the client sees, this says why. */
export type RunCause = "ok" | "error" | "timeout" | "shutdown" | "stopped";

export interface StartedRun {
  runId: string;
  sessionId: string;
  /** Settles with the final payload; rejects with AGENT_TIMEOUT. */
  done: Promise<AgentFinal>;
  /** Why the run ended; settles with `done` and never rejects. */
  cause: Promise<RunCause>;
  /** The tool calls it made (from its `tool` events), once it has ended; never rejects. */
  tools: Promise<ToolUse[]>;
}

interface Ended {
  final: AgentFinal;
  cause: RunCause;
}

/** Why a run was aborted by the gateway rather than by its deadline. */
class Shutdown extends Error {}
/** A chat's `/stop`: its runs end with status "error", summary "stopped". */
class Stopped extends Error {}

/** A run accepted and not finished: its session, its request, and whether it began executing. */
interface Live {
  sessionId: string;
  req: RunRequest;
  started: boolean;
}

/**
 * Runs agent turns on one backend. Runs of one session go one after another, in the
 * order they were accepted; different sessions run side by side up to `maxConcurrent`.
 * Each run's events are numbered; the deadline aborts the backend.
 */
export class AgentRunner {
  private readonly controllers = new Map<string, AbortController>();
  private readonly live = new Map<string, Live>();
  private readonly sessionTails = new Map<string, Promise<unknown>>();
  private readonly slots: RunSlots;

  constructor(
    private readonly deps: {
      backend: AgentBackend;
      log: Logger;
      onEvent: (event: AgentEvent) => void;
      sessions?: SessionStore;
      maxConcurrent?: number;
      newId?: () => string;
    },
  ) {
    this.slots = new RunSlots(deps.maxConcurrent ?? 4);
  }

  get backendName(): string {
    return this.deps.backend.name;
  }

  /** A config reload: runs accepted from now on use these (running ones finish as they began). */
  reconfigure(patch: { backend?: AgentBackend; maxConcurrent?: number }): void {
    if (patch.backend) this.deps.backend = patch.backend;
    if (patch.maxConcurrent !== undefined) this.slots.setMax(patch.maxConcurrent);
  }

  /** Runs accepted and not yet finished (queued or executing). */
  get active(): number {
    return this.controllers.size;
  }

  /**
   * Accept a run: it is queued behind earlier runs of its session (in arrival order), and
   * its user message is on disk when this resolves (so an acknowledged run survives a crash).
   */
  async start(req: RunRequest): Promise<StartedRun> {
    const runId = this.deps.newId ? this.deps.newId() : crypto.randomUUID();
    const sessionId = req.sessionId ?? req.to ?? "main";
    const controller = new AbortController();
    this.controllers.set(runId, controller);
    this.live.set(runId, { sessionId, req, started: false });
    const tools: ToolUse[] = [];
    // Take the session's place in line now, in arrival order — before any await.
    let accepted!: (failure?: unknown) => void;
    const acceptance = new Promise<unknown>((resolve) => (accepted = resolve));
    const previous = this.sessionTails.get(sessionId) ?? Promise.resolve();
    const ended = previous
      .catch(() => {})
      .then(() => acceptance)
      .then((failure) => {
        if (failure !== undefined) throw failure;
        return this.execute(runId, sessionId, req, controller, tools);
      })
      .finally(() => {
        this.controllers.delete(runId);
        this.live.delete(runId);
      });
    const done = ended.then((e) => e.final);
    const cause = ended.then(
      (e) => e.cause,
      (err): RunCause => (err instanceof GatewayError && err.code === "AGENT_TIMEOUT" ? "timeout" : "error"),
    );
    const tail = done.catch(() => {});
    this.sessionTails.set(sessionId, tail);
    void tail.then(() => {
      if (this.sessionTails.get(sessionId) === tail) this.sessionTails.delete(sessionId);
    });
    try {
      await this.deps.sessions?.append(sessionId, { runId, role: "user", content: req.message, ts: Date.now() });
    } catch (err) {
      accepted(err);
      done.catch(() => {});
      throw err;
    }
    accepted();
    return { runId, sessionId, done, cause, tools: cause.then(() => tools) };
  }

  /** A session's runs now: the one executing (0 or 1) and those queued behind it. */
  sessionRuns(sessionId: string): { running: number; queued: number } {
    let running = 0;
    let queued = 0;
    for (const r of this.live.values()) if (r.sessionId === sessionId) r.started ? running++ : queued++;
    return { running, queued };
  }

  /**
   * `/stop`: abort a session's run in progress and drop its queued ones; says how many of
   * each. `queuedOnly` (`/new`): the run in progress goes on. `reason` becomes the stopped
   * runs' summary (default "stopped").
   */
  stopSession(sessionId: string, opts: { queuedOnly?: boolean; reason?: string } = {}): { running: number; queued: number } {
    const counts = this.sessionRuns(sessionId);
    for (const [runId, r] of this.live) {
      if (r.sessionId !== sessionId || (opts.queuedOnly && r.started)) continue;
      this.controllers.get(runId)?.abort(new Stopped(opts.reason ?? "stopped"));
    }
    return opts.queuedOnly ? { running: 0, queued: counts.queued } : counts;
  }

  /**
   * An edited chat message whose run has not begun: the run takes the new text (and the
   * session file says so: the later user line of a run wins on read). Else whether it is
   * executing (`started`) or over (`ended`).
   */
  async editQueued(runId: string, message: string): Promise<"replaced" | "started" | "ended"> {
    const r = this.live.get(runId);
    if (!r) return "ended";
    if (r.started) return "started";
    r.req.message = message;
    await this.deps.sessions?.append(r.sessionId, { runId, role: "user", content: message, ts: Date.now() });
    return "replaced";
  }

  /** Where a session's conversation stands (its id changes with `/new`). */
  async sessionState(sessionId: string): Promise<SessionState> {
    return (await this.deps.sessions?.state(sessionId)) ?? { id: sessionId, turns: 0 };
  }

  /** `/new`: the session starts over under a new id (the old file is kept, renamed). */
  async newSession(sessionId: string): Promise<{ ended: SessionState; id: string }> {
    if (!this.deps.sessions) return { ended: { id: sessionId, turns: 0 }, id: sessionId };
    return this.deps.sessions.reset(sessionId);
  }

  /** Abort every run, queued or executing; each ends with status "error", summary "shutdown". */
  abortAll(): void {
    for (const c of this.controllers.values()) c.abort(new Shutdown("shutdown"));
  }

  private async execute(runId: string, sessionId: string, req: RunRequest, controller: AbortController, tools: ToolUse[]): Promise<Ended> {
    let seq = 0;
    const toolArgs = new Map<string, unknown>();
    // A backend that ignores the abort must not keep streaming; `force` is for the runner's own last word.
    const emit = (stream: string, data: unknown, force = false) => {
      if (controller.signal.aborted && !force) return;
      if (stream === "tool") recordTool(data, toolArgs, tools);
      seq += 1;
      this.deps.onEvent({ runId, seq, stream, ts: Date.now(), data });
    };
    const { signal } = controller;
    let acquired = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    try {
      await req.hold;
      // Start on a later macrotask so a caller without `hold` acks before the first event
      // (setImmediate: setTimeout(0) is clamped to a millisecond or more).
      await new Promise((r) => setImmediate(r));
      await this.slots.acquire(signal);
      acquired = true;
      timer = setTimeout(
        () =>
          controller.abort(
            new GatewayError("AGENT_TIMEOUT", `agent did not finish within ${req.timeoutMs} ms`, {
              retryable: true,
              details: { runId, timeoutMs: req.timeoutMs },
            }),
          ),
        req.timeoutMs,
      );
      // Settles as soon as the run is aborted, even if a backend ignores the signal.
      const aborted = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
      aborted.catch(() => {});
      const live = this.live.get(runId);
      if (live) live.started = true;
      const history = (await this.deps.sessions?.history(sessionId)) ?? [];
      const state = await this.sessionState(sessionId);
      emit("lifecycle", { phase: "start", sessionId });
      const turn = {
        runId,
        message: req.message,
        sessionId,
        history,
        session: { id: state.id, isNew: state.turns === 0 },
        deadline: Date.now() + req.timeoutMs,
        ...(req.to !== undefined ? { to: req.to } : {}),
        ...(req.thinking !== undefined ? { thinking: req.thinking } : {}),
        ...(req.media?.length ? { media: req.media } : {}),
        ...(req.context ? { context: req.context } : {}),
      };
      const result = await Promise.race([this.deps.backend.run(turn, emit, signal), aborted]);
      if (signal.aborted) throw signal.reason;
      const steps = result.steps?.length ? { steps: result.steps } : {};
      await this.deps.sessions?.append(sessionId, { runId, role: "assistant", content: result.summary, ts: Date.now(), ...steps });
      emit("lifecycle", { phase: "end" });
      return { final: { runId, status: "ok", summary: result.summary, ...(result.truncated ? { truncated: true } : {}) }, cause: "ok" };
    } catch (err) {
      this.deps.sessions?.abandon(runId);
      if (err instanceof Shutdown) {
        emit("lifecycle", { phase: "error", reason: "shutdown" }, true);
        return { final: { runId, status: "error", summary: "shutdown" }, cause: "shutdown" };
      }
      if (err instanceof Stopped) {
        emit("lifecycle", { phase: "error", reason: "stopped" }, true);
        return { final: { runId, status: "error", summary: err.message }, cause: "stopped" };
      }
      if (err instanceof GatewayError) {
        this.deps.log.warn("agent run stopped", { runId, code: err.code, reason: err.message });
        emit("lifecycle", { phase: "error", code: err.code }, true);
        throw err;
      }
      // The endpoint never answered (DNS, refused, TLS): say so, not the library's words alone.
      const net = err instanceof AgentFailure ? null : networkCause(err);
      const message = net ? unreachable("the agent endpoint", hostFromError(err) ?? this.deps.backend.name, net) : err instanceof Error ? err.message : String(err);
      this.deps.log.warn("agent run failed", { runId, error: message });
      const error = failureShape(err);
      emit("error", { message, code: error.code }, true);
      emit("lifecycle", { phase: "end" }, true);
      return { final: { runId, status: "error", summary: message, error }, cause: "error" };
    } finally {
      if (timer) clearTimeout(timer);
      if (acquired) this.slots.release();
    }
  }
}
