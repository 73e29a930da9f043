import { closeSync, createWriteStream, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync, type WriteStream } from "node:fs";
import { endsMidLine } from "./core/atomic.ts";
import { dirname } from "node:path";
import { utf8Length } from "./core/bytes.ts";
import { visible } from "./core/visible.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys whose values never reach a log line, whatever their nesting. */
const SECRET_KEY = /token|secret|password|authorization|apikey|api_key/i;

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** True when debug records are wanted anywhere: lets hot paths skip building them. */
  readonly debugEnabled: boolean;
  child(scope: string): Logger;
  /** Change the log file's level (a config reload); children follow. */
  setFileLevel(level: LogLevel): void;
  /** Scrub this secret from free text too from now on (a rotated token); children follow. */
  addSecret(secret: string): void;
  /** Flush the file and stop writing. */
  close(): Promise<void>;
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[redacted]" : redact(v, depth + 1);
  return out;
}

export interface LoggerOptions {
  /** JSON-lines file; rotated to `<file>.1` past `maxFileBytes` (UTF-8 bytes written). */
  file?: string;
  fileLevel?: LogLevel;
  /** Level of the concise human line on stdout. */
  stdoutLevel?: LogLevel;
  maxFileBytes?: number;
  /** Secrets to scrub from free text as well (e.g. the gateway token). */
  secrets?: string[];
  write?: (line: string) => void;
}

/** Past this many bytes queued for the file, debug records are dropped rather than buffered. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

/** A write cut short (a full disk) may have left half a record: end it so the next one starts on its own line. */
function endLine(path: string): void {
  const fd = openSync(path, "a+");
  try {
    if (endsMidLine(fd, fstatSync(fd).size) && writeSync(fd, "\n") !== 1) throw new Error("short write");
  } finally {
    closeSync(fd);
  }
}

class FileSink {
  private stream: WriteStream;
  private written: number;
  /** Streams left behind by a rotation that have not flushed yet. */
  private readonly ending = new Set<Promise<void>>();
  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {}
    if (size > maxBytes) {
      renameSync(path, `${path}.1`);
      size = 0;
    }
    this.written = size;
    this.stream = this.open();
  }
  /**
   * The file is opened now, not when the stream gets to it: a rotation right after
   * (a burst at start-up) then renames the file this stream writes to, and records still
   * queued land in `<file>.1` instead of in the new file beside the next stream's.
   */
  private open(): WriteStream {
    const stream = createWriteStream(this.path, { fd: openSync(this.path, "a", 0o600) });
    // A failed write (a full disk) ends the stream: note it, and open a fresh one later.
    stream.on("error", () => (this.brokenAt ??= Date.now()));
    return stream;
  }
  /** When the stream died of a write error; the file is reopened at most every 2 s after that. */
  private brokenAt: number | undefined;
  private reopen(): void {
    if (Date.now() - this.brokenAt! < 2_000) return;
    try {
      endLine(this.path);
      this.stream = this.open();
      this.brokenAt = undefined;
    } catch {
      this.brokenAt = Date.now();
    }
  }
  get pending(): number {
    return this.stream.writableLength;
  }
  write(line: string): void {
    if (this.brokenAt !== undefined) this.reopen();
    if (this.brokenAt !== undefined) return;
    this.stream.write(line);
    this.written += utf8Length(line);
    if (this.written > this.maxBytes) this.rotate();
  }
  private rotate(): void {
    const old = this.stream;
    // Its queued records are still going out (to `<file>.1` now): close() waits for them too.
    const done = new Promise<void>((resolve) => old.end(() => resolve()));
    this.ending.add(done);
    void done.then(() => this.ending.delete(done));
    try {
      renameSync(this.path, `${this.path}.1`);
    } catch {}
    this.stream = this.open();
    this.written = 0;
  }
  async close(): Promise<void> {
    await Promise.all([new Promise<void>((resolve) => this.stream.end(() => resolve())), ...this.ending]);
  }
}

/**
 * The concise one-line form of a record, as the daemon prints it on stdout (and `gateway logs` shows it).
 * A message may quote a client or a chat: its control characters are shown visibly (fields are JSON already).
 */
export function conciseLine(ts: string, level: string, scope: string, msg: string, fields?: Record<string, unknown>): string {
  const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
  return `${ts} ${level.padEnd(5)} [${scope}] ${visible(msg, { lines: true })}${extra}`;
}

/** A logger writing JSON lines to a file and concise human lines to stdout. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  let fileLevel = RANK[opts.fileLevel ?? "info"];
  const stdoutLevel = RANK[opts.stdoutLevel ?? "info"];
  // Read on every request by hot paths: a plain value, recomputed only when the level changes.
  let debugEnabled = Math.min(fileLevel, stdoutLevel) <= RANK.debug;
  const sink = opts.file ? new FileSink(opts.file, opts.maxFileBytes ?? 10 * 1024 * 1024) : null;
  const secrets = (opts.secrets ?? []).filter((s) => s.length > 0);
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const scrub = (s: string) => secrets.reduce((acc, secret) => acc.split(secret).join("[redacted]"), s);

  const make = (scope: string): Logger => {
    const log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      const rank = RANK[level];
      const toFile = sink !== null && rank >= fileLevel && !(level === "debug" && sink.pending > MAX_PENDING_BYTES);
      const toStdout = rank >= stdoutLevel;
      if (!toFile && !toStdout) return;
      const ts = new Date().toISOString();
      const clean = fields ? (redact(fields) as Record<string, unknown>) : undefined;
      if (toFile) sink.write(scrub(JSON.stringify({ ts, level, scope, msg, ...clean })) + "\n");
      if (toStdout) write(scrub(conciseLine(ts, level, scope, msg, clean)) + "\n");
    };
    return {
      debug: (m, f) => log("debug", m, f),
      info: (m, f) => log("info", m, f),
      warn: (m, f) => log("warn", m, f),
      error: (m, f) => log("error", m, f),
      get debugEnabled() {
        return debugEnabled;
      },
      child: (s) => make(`${scope}:${s}`),
      setFileLevel: (level) => {
        fileLevel = RANK[level];
        debugEnabled = Math.min(fileLevel, stdoutLevel) <= RANK.debug;
      },
      addSecret: (secret) => {
        if (secret.length > 0 && !secrets.includes(secret)) secrets.push(secret);
      },
      close: () => sink?.close() ?? Promise.resolve(),
    };
  };
  return make("gateway");
}

/** A logger that drops everything; for library use and tests that do not read logs. */
export const silentLogger: Logger = createLogger({ stdoutLevel: "error", write: () => {} });
