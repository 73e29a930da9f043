import { appendFile, open, rename } from "node:fs/promises";
import { closeSync, fstatSync, openSync, readdirSync } from "node:fs";
import { endsMidLine } from "../core/atomic.ts";
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

/**
 * The first line of a session started by `/new`: its own id (a file without one is the
 * chat's first session, whose id is the chat's session key).
 */
export interface SessionStartLine {
  role: "session";
  id: string;
  ts: number;
}

/** Where a chat's conversation stands: its current session id and its completed turns. */
export interface SessionState {
  id: string;
  turns: number;
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
/** Session files checked for a torn last line at start. */
const MAX_SCANNED = 10_000;

/** The file's last byte is not a newline (a line cut by a crash). */
function endsTorn(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    return endsMidLine(fd, fstatSync(fd).size);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

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
  /** Current session id and turn count per session key (bounded like the open files). */
  private readonly states = new Map<string, SessionState>();

  constructor(
    private readonly dir: string,
    private readonly maxTurns: number,
    /** Told what was skipped or repaired in a session file (a torn last line). */
    private readonly onRepair?: (note: string) => void,
  ) {}

  /**
   * At start: end the torn last line of any session file (a crash mid-write) and say so,
   * rather than when the session is next used. Bounded: one byte read per file, at most
   * `MAX_SCANNED` files.
   */
  scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith(".jsonl")).slice(0, MAX_SCANNED);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      if (!endsTorn(path)) continue;
      try {
        new JsonlFile<SessionLine>(path, this.onRepair ? { onRepair: this.onRepair } : {}).open();
      } catch {}
    }
  }

  /** Open session files (LRU): each keeps its appends in order and ended a torn line once. */
  private readonly files = new Map<string, JsonlFile<SessionLine | SessionStartLine>>();
  /** User messages of runs still without a reply, by runId. */
  private readonly pendingUser = new Map<string, { sessionId: string; content: string }>();
  /** Runs of a conversation `/new` ended while they were in flight: their reply goes to its archive. */
  private readonly endedRuns = new Map<string, string>();

  private file(sessionId: string): JsonlFile<SessionLine | SessionStartLine> {
    let file = this.files.get(sessionId);
    if (file) this.files.delete(sessionId);
    else file = new JsonlFile<SessionLine | SessionStartLine>(join(this.dir, sessionFileName(sessionId)), this.onRepair ? { onRepair: this.onRepair } : {});
    this.files.set(sessionId, file);
    // A handle dropped here may still have a write queued; it finishes on its own (one
    // O_APPEND write per line, so a later handle's lines never interleave with it).
    if (this.files.size > MAX_CACHED * 4) this.files.delete(this.files.keys().next().value!);
    return file;
  }

  /** Append a line durably (the promise settles after the write). */
  async append(sessionId: string, line: SessionLine): Promise<void> {
    const archive = line.role === "assistant" ? this.endedRuns.get(line.runId) : undefined;
    if (archive) {
      // Asked before `/new`: the answer belongs to the ended conversation, not the new one.
      this.endedRuns.delete(line.runId);
      this.pendingUser.delete(line.runId);
      await appendFile(archive, `${JSON.stringify(line)}\n`, { mode: 0o600 });
      return;
    }
    await this.file(sessionId).append(line);
    if (line.role === "user") {
      this.pendingUser.set(line.runId, { sessionId, content: line.content });
      return;
    }
    const user = this.pendingUser.get(line.runId)?.content ?? "";
    this.pendingUser.delete(line.runId);
    const state = this.states.get(sessionId);
    if (state) state.turns += 1;
    const turns = this.cache.get(sessionId);
    if (!turns) return;
    turns.push(turnOf(user, line));
    if (turns.length > this.maxTurns) turns.splice(0, turns.length - this.maxTurns);
  }

  /** A run ended without a reply: it is not a turn. */
  abandon(runId: string): void {
    this.pendingUser.delete(runId);
    this.endedRuns.delete(runId);
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
    let id: string | undefined;
    for (const line of await this.file(sessionId).readTail(MAX_TAIL_BYTES)) {
      if (line?.role === "user") users.set(line.runId, line.content);
      else if (line?.role === "assistant") {
        turns.push(turnOf(users.get(line.runId) ?? "", line));
        users.delete(line.runId);
      } else if (line?.role === "session" && typeof line.id === "string") id ??= line.id;
    }
    // A file longer than the tail window keeps its start line out of reach of readTail.
    id ??= await this.headId(sessionId);
    this.remember(sessionId, { id: id ?? sessionId, turns: turns.length });
    return turns.slice(-this.maxTurns);
  }

  private remember(sessionId: string, state: SessionState): void {
    this.states.delete(sessionId);
    this.states.set(sessionId, state);
    if (this.states.size > MAX_CACHED * 4) this.states.delete(this.states.keys().next().value!);
  }

  /** The id on the first line of a session file (a session `/new` started), if any. */
  private async headId(sessionId: string): Promise<string | undefined> {
    const fh = await open(join(this.dir, sessionFileName(sessionId)), "r").catch(() => null);
    if (!fh) return undefined;
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const first = buf.subarray(0, bytesRead).toString("utf8").split("\n")[0]!;
      const line = JSON.parse(first) as Partial<SessionStartLine>;
      return line.role === "session" && typeof line.id === "string" ? line.id : undefined;
    } catch {
      return undefined;
    } finally {
      await fh.close();
    }
  }

  /**
   * The conversation a session key is in now: its session id (the key itself until the
   * first `/new`) and its completed turns (counted within the file's readable tail).
   */
  async state(sessionId: string): Promise<SessionState> {
    if (!this.states.has(sessionId)) {
      this.cache.delete(sessionId);
      await this.history(sessionId);
    }
    return { ...this.states.get(sessionId)! };
  }

  /**
   * `/new`: the session's file is renamed with its end time (kept, never read again) and
   * a fresh one starts under a new session id, so its history is empty and session-keyed
   * CLIs start over too. Resolves with the ended session's state and the new id.
   */
  async reset(sessionId: string): Promise<{ ended: SessionState; id: string }> {
    const ended = await this.state(sessionId);
    const file = this.file(sessionId);
    await file.flushed();
    const end = new Date().toISOString().replace(/:/g, "-");
    const archive = `${file.path}.ended-${end}`;
    await rename(file.path, archive).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
    for (const [runId, p] of this.pendingUser) if (p.sessionId === sessionId) this.endedRuns.set(runId, archive);
    this.files.delete(sessionId);
    const id = `${sessionId}@${end}`;
    await this.file(sessionId).append({ role: "session", id, ts: Date.now() });
    this.cache.set(sessionId, []);
    this.remember(sessionId, { id, turns: 0 });
    return { ended, id };
  }
}
