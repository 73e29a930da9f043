import type { AgentFinal } from "../protocol/index.ts";

interface RunEntry {
  done: Promise<AgentFinal>;
  final?: AgentFinal;
  error?: unknown;
  finishedAt?: number;
}

/**
 * Agent runs by runId for `agent.wait`: every running run, and finished ones for
 * `keepMs` (bounded in number too), so a client that lost its connection mid-run can
 * still get the outcome.
 */
export class RunRegistry {
  private readonly runs = new Map<string, RunEntry>();

  constructor(
    private readonly keepMs = 10 * 60_000,
    private readonly maxFinished = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(runId: string, done: Promise<AgentFinal>): void {
    if (this.runs.has(runId)) return;
    const entry: RunEntry = { done };
    this.runs.set(runId, entry);
    done.then(
      (final) => this.finish(runId, entry, { final }),
      (error) => this.finish(runId, entry, { error }),
    );
  }

  /** Resolves when every run still going has settled, or after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    const going = [...this.runs.values()].filter((e) => e.finishedAt === undefined).map((e) => e.done.catch(() => {}));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(going), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  get(runId: string): RunEntry | undefined {
    this.evict();
    return this.runs.get(runId);
  }

  private finish(runId: string, entry: RunEntry, outcome: { final?: AgentFinal; error?: unknown }): void {
    Object.assign(entry, outcome, { finishedAt: this.now() });
    // Re-insert so finished runs are ordered by finish time for eviction.
    this.runs.delete(runId);
    this.runs.set(runId, entry);
    this.evict();
  }

  private evict(): void {
    const now = this.now();
    let finished = 0;
    for (const e of this.runs.values()) if (e.finishedAt !== undefined) finished += 1;
    for (const [id, e] of this.runs) {
      if (e.finishedAt === undefined) continue;
      if (finished <= this.maxFinished && now - e.finishedAt <= this.keepMs) break;
      this.runs.delete(id);
      finished -= 1;
    }
  }
}
