import { GatewayError, type AgentEvent, type AgentFinal } from "../protocol/index.ts";
import type { Logger } from "../log.ts";
import type { AgentBackend } from "./types.ts";

export interface RunRequest {
  message: string;
  to?: string;
  sessionId?: string;
  /** Deadline for this run in ms. */
  timeoutMs: number;
}

export interface StartedRun {
  runId: string;
  /** Settles with the final payload; rejects with AGENT_TIMEOUT or UNAVAILABLE. */
  done: Promise<AgentFinal>;
}

/**
 * Runs agent turns on one backend: assigns run ids, numbers each run's events,
 * enforces the deadline by aborting the backend, and reports every event.
 */
export class AgentRunner {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly deps: {
      backend: AgentBackend;
      log: Logger;
      onEvent: (event: AgentEvent) => void;
      newId?: () => string;
    },
  ) {}

  get backendName(): string {
    return this.deps.backend.name;
  }

  get active(): number {
    return this.running.size;
  }

  start(req: RunRequest): StartedRun {
    const runId = this.deps.newId ? this.deps.newId() : crypto.randomUUID();
    const controller = new AbortController();
    this.running.set(runId, controller);
    let seq = 0;
    // A backend that ignores the abort must not keep streaming; `force` is for the runner's own last word.
    const emit = (stream: string, data: unknown, force = false) => {
      if (controller.signal.aborted && !force) return;
      seq += 1;
      this.deps.onEvent({ runId, seq, stream, ts: Date.now(), data });
    };
    const done = this.execute(runId, req, emit, controller).finally(() => this.running.delete(runId));
    return { runId, done };
  }

  /** Abort every run (shutdown). */
  abortAll(reason: string): void {
    for (const c of this.running.values()) c.abort(new GatewayError("UNAVAILABLE", reason, { retryable: true }));
  }

  private async execute(
    runId: string,
    req: RunRequest,
    emit: (stream: string, data: unknown, force?: boolean) => void,
    controller: AbortController,
  ): Promise<AgentFinal> {
    const timeout = new GatewayError("AGENT_TIMEOUT", `agent did not finish within ${req.timeoutMs} ms`, {
      retryable: true,
      details: { runId, timeoutMs: req.timeoutMs },
    });
    const timer = setTimeout(() => controller.abort(timeout), req.timeoutMs);
    // Settles as soon as the deadline passes, even if a backend ignores the signal.
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    aborted.catch(() => {});
    // Start on the next macrotask so the caller's ack goes out before the first event.
    await new Promise((r) => setTimeout(r, 0));
    emit("lifecycle", { phase: "start" });
    try {
      const turn = {
        runId,
        message: req.message,
        sessionId: req.sessionId ?? req.to ?? "main",
        ...(req.to !== undefined ? { to: req.to } : {}),
      };
      const result = await Promise.race([this.deps.backend.run(turn, emit, controller.signal), aborted]);
      emit("lifecycle", { phase: "end" });
      return { runId, status: "ok", summary: result.summary };
    } catch (err) {
      if (err instanceof GatewayError) {
        this.deps.log.warn("agent run stopped", { runId, code: err.code, reason: err.message });
        emit("lifecycle", { phase: "error", code: err.code }, true);
        throw err;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.deps.log.warn("agent run failed", { runId, error: message });
      emit("error", { message });
      emit("lifecycle", { phase: "end" });
      return { runId, status: "error", summary: message };
    } finally {
      clearTimeout(timer);
    }
  }
}
