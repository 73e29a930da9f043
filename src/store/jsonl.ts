import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from "node:fs";
import { appendFile, open, rename, truncate } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { CORRUPT_MARK, stamp } from "./corrupt.ts";
import { endsMidLine, privateDir, writeAtomic, writeAtomicSync } from "../core/atomic.ts";
import { utf8Length } from "../core/bytes.ts";

export interface JsonlOptions<T> {
  /**
   * Past this many bytes of UTF-8 the active file rotates before the next append (and at
   * least half of it is new since the last rotation). Default: never.
   */
  maxFileBytes?: number;
  /** Where the active file goes on rotation; one generation is kept. Default `<path>.1`. */
  rotatedPath?: string;
  /** Records the fresh file starts with after a rotation (those still live), oldest first. */
  carry?: () => T[];
  /**
   * Told once per file, at open or first read, what was skipped or repaired (a torn last
   * line, unreadable lines), so the owner can say so at start-up.
   */
  onRepair?: (note: string) => void;
  /** A write failed (ENOSPC, say) and the file was cut back to its last whole record, or succeeded again. */
  onWrite?: (err: Error | null) => void;
}

/** A torn tail longer than this is not looked into: the line is ended in place instead. */
const MAX_TORN_BYTES = 1024 * 1024;

const line = (record: unknown) => `${JSON.stringify(record)}\n`;

/** Parse JSON lines; blank, torn (a crash mid-write) and corrupt lines are skipped and counted. */
function parseLines<T>(text: string): { records: T[]; lines: number; skipped: number } {
  const records: T[] = [];
  let lines = 0;
  let skipped = 0;
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    lines += 1;
    try {
      records.push(JSON.parse(raw) as T);
    } catch {
      // Torn by kill -9 mid-append, or not ours: not fatal, the rest is still good.
      skipped += 1;
    }
  }
  return { records, lines, skipped };
}

/**
 * One append-only JSON-lines file (0600, in a 0700 dir): appends are written in call
 * order, each promise settling once its line is on disk; a torn last line left by a
 * crash is ended before the first append (so no record is glued onto it) and skipped on
 * read; the file rotates by its real UTF-8 size and can be compacted atomically. A write
 * that fails part-way (ENOSPC) is cut back to the last whole record at once, and again
 * before the next append if that cut failed too, so the file always ends at a record
 * boundary. The ledger, the idempotency store and the session store keep their records in these.
 */
export class JsonlFile<T> {
  private chain: Promise<void> = Promise.resolve();
  private size = -1;
  /** Bytes the active file started with at the last rotation (the carried records). */
  private carried = 0;
  /** Lines in the active file once queued writes land, live or superseded: tells the owner when compaction pays. */
  lineCount = 0;
  private readonly rotatedPath: string;
  /** A failed write may have left part of its line: cut back to `size` before the next write. */
  private torn = false;
  /** `onRepair` already told about this file's start-up state. */
  private told = false;
  /** Lines `readAll` could not parse (torn or corrupt): a compaction would drop them. */
  unreadable = 0;

  constructor(
    readonly path: string,
    private readonly opts: JsonlOptions<T> = {},
  ) {
    this.rotatedPath = opts.rotatedPath ?? `${path}.1`;
  }

  /** Size of the active file in bytes, as this store has written it. */
  get bytes(): number {
    return Math.max(0, this.size);
  }

  /** Create the file if missing and end a torn last line; later appends skip this. */
  open(): void {
    if (this.size >= 0) return;
    privateDir(dirname(this.path));
    const fd = openSync(this.path, "a+", 0o600);
    try {
      let size = fstatSync(fd).size;
      if (endsMidLine(fd, size)) size = this.cutTorn(fd, size);
      this.size = size;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * A torn last line (a crash mid-write): moved into `<name>.corrupt-<ts>` (the evidence
   * kept) and cut off, so the file ends at its last whole record; when it cannot be found
   * or kept, the line is ended in place instead (and skipped on every read). Returns the size.
   */
  private cutTorn(fd: number, size: number): number {
    const start = Math.max(0, size - MAX_TORN_BYTES);
    const tail = Buffer.alloc(size - start);
    readSync(fd, tail, 0, tail.length, start);
    const nl = tail.lastIndexOf(0x0a);
    if (nl >= 0 || start === 0) {
      const keep = start + nl + 1;
      const aside = `${this.path}${CORRUPT_MARK}${stamp()}`;
      try {
        writeFileSync(aside, tail.subarray(nl + 1), { mode: 0o600 });
        ftruncateSync(fd, keep);
        this.tell(`skipped a torn last line (moved aside to ${basename(aside)})`);
        return keep;
      } catch {}
    }
    this.tell("skipped a torn last line (kept in the file, ended so the next record starts on a line of its own)");
    return size + writeSync(fd, "\n");
  }

  /** Every record of the rotated file, then the active one: oldest first. For start-up. */
  readAll(): T[] {
    const old = existsSync(this.rotatedPath) ? parseLines<T>(readFileSync(this.rotatedPath, "utf8")).records : [];
    let text = "";
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const active = parseLines<T>(text);
    this.lineCount = active.lines;
    this.unreadable = active.skipped;
    // A torn last line is told (and moved aside) by open(); other unreadable lines here.
    const torn = text.length > 0 && !text.endsWith("\n") ? 1 : 0;
    if (active.skipped > torn) this.tell(`skipped ${active.skipped - torn} unreadable line(s) (kept in the file)`, true);
    return [...old, ...active.records];
  }

  /** The records in the last `maxBytes` of the active file (a line cut by the window is dropped). */
  async readTail(maxBytes: number): Promise<T[]> {
    let fh;
    try {
      fh = await open(this.path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - maxBytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      let text = buf.toString("utf8");
      if (start > 0) text = text.slice(text.indexOf("\n") + 1);
      return parseLines<T>(text).records;
    } finally {
      await fh.close();
    }
  }

  /** Append one record; resolves once it is written. Appends and rewrites keep call order. */
  append(record: T): Promise<void> {
    this.open();
    const text = line(record);
    const bytes = utf8Length(text);
    this.lineCount += 1;
    // No async wrapper: an append costs no more event-loop turns than the write itself.
    return this.enqueue(() => {
      const max = this.opts.maxFileBytes;
      // When the carried records alone fill the file, wait for half a file of new lines
      // before rotating again; otherwise every append would rewrite them all.
      if (max !== undefined && this.size > 0 && this.size + bytes > max && this.size - this.carried >= max / 2) {
        return this.rotate().then(() => this.write(text, bytes));
      }
      return this.write(text, bytes);
    });
  }

  private async write(text: string, bytes: number): Promise<void> {
    if (this.torn) {
      await truncate(this.path, this.size).catch((err: Error) => {
        this.opts.onWrite?.(err);
        throw err;
      });
      this.torn = false;
    }
    try {
      await appendFile(this.path, text, { mode: 0o600 });
    } catch (err) {
      // Part of the line may be on disk (a short write before ENOSPC): cut it off now, or
      // (if even that fails) before the next append, so no record is glued onto it.
      this.torn = true;
      this.lineCount -= 1;
      // Bun's fs errors may lack the path: the full-disk message names the file.
      if (!(err as NodeJS.ErrnoException).path) (err as NodeJS.ErrnoException).path = this.path;
      await truncate(this.path, this.size).then(
        () => (this.torn = false),
        () => {},
      );
      this.opts.onWrite?.(err as Error);
      throw err;
    }
    this.size += bytes;
    this.opts.onWrite?.(null);
  }

  /** Tell the owner once what was found at start-up (`again`: a further note on the same file). */
  private tell(note: string, again = false): void {
    if (this.told && !again) return;
    this.told = true;
    this.opts.onRepair?.(`${this.path}: ${note}`);
  }

  /** Append at start-up, before anything is queued (e.g. recovery records). */
  appendSync(record: T): void {
    this.open();
    const text = line(record);
    const fd = openSync(this.path, "a", 0o600);
    try {
      if (this.torn) {
        ftruncateSync(fd, this.size);
        this.torn = false;
      }
      const bytes = utf8Length(text);
      // A short write is how a full disk answers first; the error only comes on the next one.
      if (writeSync(fd, text) !== bytes) throw Object.assign(new Error(`ENOSPC: no space left on device, write '${this.path}'`), { code: "ENOSPC", path: this.path });
      this.size += bytes;
    } catch (err) {
      // writeSync may have written part of the line: cut back to the last whole record.
      try {
        ftruncateSync(fd, this.size);
      } catch {
        this.torn = true;
      }
      throw err;
    } finally {
      closeSync(fd);
    }
    this.lineCount += 1;
  }

  /** Compaction: replace the file with exactly `records`, atomically, in order with appends. */
  rewrite(records: T[]): Promise<void> {
    this.lineCount = records.length;
    return this.enqueue(() => this.replace(records));
  }

  /** `rewrite` at start-up, before anything is queued. */
  rewriteSync(records: T[]): void {
    const text = records.map(line).join("");
    writeAtomicSync(this.path, text);
    this.size = utf8Length(text);
    this.lineCount = records.length;
  }

  private async replace(records: T[]): Promise<void> {
    const text = records.map(line).join("");
    await writeAtomic(this.path, text);
    this.size = utf8Length(text);
  }

  /** The active file becomes the rotated one; the fresh file starts with the carried records. */
  private async rotate(): Promise<void> {
    await rename(this.path, this.rotatedPath);
    // Until the carried records are in, the active file is empty (they are still read from the rotated one).
    this.size = this.carried = 0;
    this.torn = false;
    const carried = this.opts.carry?.() ?? [];
    const text = carried.map(line).join("");
    // Atomic: a full disk leaves no fresh file with half a record; the next append creates it.
    await writeAtomic(this.path, text);
    this.size = this.carried = utf8Length(text);
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Resolves once every queued write has settled. */
  flushed(): Promise<void> {
    return this.chain;
  }
}
