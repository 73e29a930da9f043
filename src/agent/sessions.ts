import { appendFile, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { endTornLine } from "../jsonl.ts";

/** One line of a session file. */
export interface SessionLine {
  runId: string;
  role: "user" | "assistant";
  content: string;
  ts: number;
}

export interface Turn {
  user: string;
  assistant: string;
}

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

  private made: Promise<void> | undefined;
  private readonly checked = new Set<string>();
  /** User messages of runs still without a reply, by runId. */
  private readonly pendingUser = new Map<string, string>();

  /** Append a line durably (the promise settles after the write). */
  async append(sessionId: string, line: SessionLine): Promise<void> {
    // The directory is made once per store, not on every append.
    this.made ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => {});
    await this.made;
    const file = join(this.dir, sessionFileName(sessionId));
    if (!this.checked.has(sessionId)) {
      // First write to this session since start: do not glue onto a line torn by a crash.
      endTornLine(file);
      this.checked.add(sessionId);
      if (this.checked.size > MAX_CACHED * 4) this.checked.clear();
    }
    await appendFile(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
    if (line.role === "user") {
      this.pendingUser.set(line.runId, line.content);
      return;
    }
    const user = this.pendingUser.get(line.runId) ?? "";
    this.pendingUser.delete(line.runId);
    const turns = this.cache.get(sessionId);
    if (!turns) return;
    turns.push({ user, assistant: line.content });
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
    let text = "";
    try {
      const fh = await open(join(this.dir, sessionFileName(sessionId)), "r");
      try {
        const { size } = await fh.stat();
        const start = Math.max(0, size - MAX_TAIL_BYTES);
        const buf = Buffer.alloc(size - start);
        await fh.read(buf, 0, buf.length, start);
        text = buf.toString("utf8");
        if (start > 0) text = text.slice(text.indexOf("\n") + 1);
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const users = new Map<string, string>();
    const turns: Turn[] = [];
    for (const raw of text.split("\n")) {
      if (!raw) continue;
      let line: SessionLine;
      try {
        line = JSON.parse(raw);
      } catch {
        continue;
      }
      if (line.role === "user") users.set(line.runId, line.content);
      else if (line.role === "assistant") {
        turns.push({ user: users.get(line.runId) ?? "", assistant: line.content });
        users.delete(line.runId);
      }
    }
    return turns.slice(-this.maxTurns);
  }
}
