import type { AgentEvent } from "../protocol/index.ts";

/** A run as a newly opened tab needs it to show the conversation so far. */
export interface RecentRun {
  runId: string;
  sessionId?: string;
  /** The user's message, when a WebChat tab started the run (the gateway does not echo it). */
  message?: string;
  /** The assistant text so far (clipped to the buffer's per-run bound). */
  text: string;
  truncated?: true;
  status: "running" | "ok" | "error";
  error?: string;
  startedAt: number;
}

/**
 * The last runs seen on the gateway connection, so a tab opened (or reloaded) mid-run
 * still shows it. Bounded twice: by run count (oldest evicted) and by text per run.
 */
export class RecentRuns {
  private readonly runs = new Map<string, RecentRun>();

  constructor(
    private readonly maxRuns = 50,
    private readonly maxTextChars = 32 * 1024,
  ) {}

  /** The run's session, once its `lifecycle` start was seen (or a tab started it). */
  sessionOf(runId: string): string | undefined {
    return this.runs.get(runId)?.sessionId;
  }

  /** A tab started this run: remember the message that the events will not carry. */
  started(runId: string, sessionId: string, message: string): void {
    const run = this.get(runId);
    run.sessionId ??= sessionId;
    run.message = message.length > this.maxTextChars ? message.slice(0, this.maxTextChars) : message;
  }

  /** Fold one `agent` event in. */
  onEvent(ev: AgentEvent): void {
    const run = this.get(ev.runId);
    const data = (ev.data ?? {}) as { phase?: string; sessionId?: string; delta?: string; message?: string; code?: string; reason?: string };
    if (ev.stream === "lifecycle") {
      if (data.phase === "start" && typeof data.sessionId === "string") run.sessionId = data.sessionId;
      else if (data.phase === "end" && run.status === "running") run.status = "ok";
      else if (data.phase === "error") {
        run.status = "error";
        run.error = data.code ?? data.reason ?? "error";
      }
    } else if (ev.stream === "assistant" && typeof data.delta === "string") {
      if (run.text.length + data.delta.length <= this.maxTextChars) run.text += data.delta;
      else {
        run.text = (run.text + data.delta).slice(0, this.maxTextChars);
        run.truncated = true;
      }
    } else if (ev.stream === "error") {
      run.status = "error";
      run.error = typeof data.message === "string" ? data.message : "error";
    }
  }

  /** The final `res` of a run a tab started (covers a drop before `lifecycle` end). */
  finished(runId: string, status: "ok" | "error", error?: string): void {
    const run = this.runs.get(runId);
    if (!run || run.status !== "running") return;
    run.status = status;
    if (error !== undefined) run.error = error;
  }

  /** The gateway went away: runs it had in flight will not finish. */
  abandonRunning(reason: string): void {
    for (const run of this.runs.values()) {
      if (run.status === "running") {
        run.status = "error";
        run.error = reason;
      }
    }
  }

  list(): RecentRun[] {
    return [...this.runs.values()].map((r) => ({ ...r }));
  }

  private get(runId: string): RecentRun {
    let run = this.runs.get(runId);
    if (!run) {
      run = { runId, text: "", status: "running", startedAt: Date.now() };
      this.runs.set(runId, run);
      while (this.runs.size > this.maxRuns) this.runs.delete(this.runs.keys().next().value!);
    }
    return run;
  }
}
