import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { conciseLine } from "../log.ts";

const RANK: Record<string, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogFilter {
  minLevel: string;
  since?: number;
  json: boolean;
}

/** Where reading stopped: the file's identity and the offset of the first unread byte. */
export interface LogPosition {
  ino: number;
  offset: number;
  /** An unfinished last line, completed by the next read. */
  partial: string;
}

/** One JSON record → the printed line, or null when filtered out (a torn or foreign line is shown as is). */
export function renderRecord(line: string, f: LogFilter): string | null {
  if (line.trim() === "") return null;
  let rec: { ts?: string; level?: string; scope?: string; msg?: string; [k: string]: unknown };
  try {
    rec = JSON.parse(line);
  } catch {
    return f.json ? null : line;
  }
  if ((RANK[rec.level ?? "info"] ?? 20) < (RANK[f.minLevel] ?? 10)) return null;
  if (f.since !== undefined && Date.parse(rec.ts ?? "") < f.since) return null;
  if (f.json) return line;
  const { ts = "", level = "info", scope = "gateway", msg = "", ...fields } = rec;
  return conciseLine(ts, level, scope, msg, fields);
}

/** Read a file from `offset`, in chunks (a 10 MB log never sits in memory whole). */
function readFrom(file: string, pos: LogPosition, f: LogFilter, out: (line: string) => void): void {
  const fd = openSync(file, "r");
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos.offset);
      if (n <= 0) break;
      pos.offset += n;
      const text = pos.partial + buf.toString("utf8", 0, n);
      const lines = text.split("\n");
      pos.partial = lines.pop() ?? "";
      for (const l of lines) {
        const shown = renderRecord(l, f);
        if (shown !== null) out(shown);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Print the rotated file, then the current one. Returns where the current one ends (null: no log at all). */
export function readLog(file: string, f: LogFilter, out: (line: string) => void): LogPosition | null {
  const rotated = `${file}.1`;
  const hasRotated = existsSync(rotated);
  if (hasRotated) readFrom(rotated, { ino: 0, offset: 0, partial: "" }, f, out);
  if (!existsSync(file)) return hasRotated ? { ino: -1, offset: 0, partial: "" } : null;
  const pos: LogPosition = { ino: statSync(file).ino, offset: 0, partial: "" };
  readFrom(file, pos, f, out);
  return pos;
}

/** Poll often enough that a new record shows within a second; survives rotation (`gateway.log` → `.1`). */
export async function followLog(
  file: string,
  start: LogPosition | null,
  f: LogFilter,
  out: (line: string) => void,
  opts: { intervalMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  let pos = start ?? { ino: -1, offset: 0, partial: "" };
  const interval = opts.intervalMs ?? 200;
  while (!opts.signal?.aborted) {
    let st;
    try {
      st = statSync(file);
    } catch {
      st = null;
    }
    if (st) {
      if (st.ino !== pos.ino) {
        // Rotated: finish the old file (now `.1`) first, then read the new one from the start.
        try {
          if (pos.ino !== -1 && statSync(`${file}.1`).ino === pos.ino) readFrom(`${file}.1`, pos, f, out);
        } catch {}
        pos = { ino: st.ino, offset: 0, partial: "" };
      } else if (st.size < pos.offset) {
        pos = { ino: st.ino, offset: 0, partial: "" };
      }
      if (st.size > pos.offset) readFrom(file, pos, f, out);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
