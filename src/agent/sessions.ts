import { join } from "node:path";
import { JsonlFile } from "../store/jsonl.ts";

/** One line of a session file. */
export interface SessionLine {
  runId: string;
  role: "user" | "assistant";
  content: string;
  ts: number;
  /** Assistant lines: the tool calls and results that came before the reply (API messages, as sent). */
  steps?: Record<string, unknown>[];
}

export interface Turn {
  user: string;
  assistant: string;
  steps?: Record<string, unknown>[];
}

/** A turn from its two lines (the tool steps ride on the assistant line). */
const turnOf = (user: string, line: SessionLine): Turn => ({ user, assistant: line.content, ...(line.steps?.length ? { steps: line.steps } : {}) });

/** History beyond this many bytes from the end of a file is not read back. */
const MAX_TAIL_BYTES = 1024 * 1024;
/** Sessions whose recent turns stay in memory. */
const MAX_CACHED = 256;

/** File names from session ids: anything outside [A-Za-z0-9._-] is escaped, so ids cannot escape the dir. */
export function sessionFileName(sessionId: string): string {
  return `${sessionId.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}.jsonl`;
}

/**
 * Conversations as append-only JSON lines under `<state>/sessions/`. A line is written
 * before the run is acknowledged (user) or finished (assistant), so a crash loses
 * nothing that was acknowledged; a torn last line is skipped on read.
 */
export class SessionStore {
  private readonly cache = new Map<string, Turn[]>();

  constructor(
    private readonly dir: string,
    private readonly maxTurns: number,
  ) {}

  /** Open session files (LRU): each keeps its appends in order and ended a torn line once. */
  private readonly files = new Map<string, JsonlFile<SessionLine>>();
  /** User messages of runs still without a reply, by runId. */
  private readonly pendingUser = new Map<string, string>();

  private file(sessionId: string): JsonlFile<SessionLine> {
    let file = this.files.get(sessionId);
    if (file) this.files.delete(sessionId);
    else file = new JsonlFile<SessionLine>(join(this.dir, sessionFileName(sessionId)));
    this.files.set(sessionId, file);
    // A handle dropped here may still have a write queued; it finishes on its own (one
    // O_APPEND write per line, so a later handle's lines never interleave with it).
    if (this.files.size > MAX_CACHED * 4) this.files.delete(this.files.keys().next().value!);
    return file;
  }

  /** Append a line durably (the promise settles after the write). */
  async append(sessionId: string, line: SessionLine): Promise<void> {
    await this.file(sessionId).append(line);
    if (line.role === "user") {
      this.pendingUser.set(line.runId, line.content);
      return;
    }
    const user = this.pendingUser.get(line.runId) ?? "";
    this.pendingUser.delete(line.runId);
    const turns = this.cache.get(sessionId);
    if (!turns) return;
    turns.push(turnOf(user, line));
    if (turns.length > this.maxTurns) turns.splice(0, turns.length - this.maxTurns);
  }

  /** A run ended without a reply: it is not a turn. */
  abandon(runId: string): void {
    this.pendingUser.delete(runId);
  }

  /** The last `maxTurns` completed turns (a run without a reply is not a turn). */
  async history(sessionId: string): Promise<Turn[]> {
    const cached = this.cache.get(sessionId);
    if (cached) {
      // Refresh LRU position.
      this.cache.delete(sessionId);
      this.cache.set(sessionId, cached);
      return cached.slice();
    }
    const turns = await this.load(sessionId);
    this.cache.set(sessionId, turns);
    while (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return turns.slice();
  }

  private async load(sessionId: string): Promise<Turn[]> {
    const users = new Map<string, string>();
    const turns: Turn[] = [];
    for (const line of await this.file(sessionId).readTail(MAX_TAIL_BYTES)) {
      if (line?.role === "user") users.set(line.runId, line.content);
      else if (line?.role === "assistant") {
        turns.push(turnOf(users.get(line.runId) ?? "", line));
        users.delete(line.runId);
      }
    }
    return turns.slice(-this.maxTurns);
  }
}
