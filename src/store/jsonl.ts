import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { appendFile, open, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { privateDir, writeAtomic, writeAtomicSync } from "../core/atomic.ts";
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
}

const line = (record: unknown) => `${JSON.stringify(record)}\n`;

/** Parse JSON lines; blank, torn (a crash mid-write) and corrupt lines are skipped. */
function parseLines<T>(text: string): { records: T[]; lines: number } {
  const records: T[] = [];
  let lines = 0;
  for (const raw of text.split("\n")) {
    if (!raw) continue;
    lines += 1;
    try {
      records.push(JSON.parse(raw) as T);
    } catch {
      // Torn by kill -9 mid-append, or not ours: not fatal, the rest is still good.
    }
  }
  return { records, lines };
}

/**
 * One append-only JSON-lines file (0600, in a 0700 dir): appends are written in call
 * order, each promise settling once its line is on disk; a torn last line left by a
 * crash is ended before the first append (so no record is glued onto it) and skipped on
 * read; the file rotates by its real UTF-8 size and can be compacted atomically. The
 * ledger, the idempotency store and the session store keep their records in these.
 */
export class JsonlFile<T> {
  private chain: Promise<void> = Promise.resolve();
  private size = -1;
  /** Bytes the active file started with at the last rotation (the carried records). */
  private carried = 0;
  /** Lines in the active file once queued writes land, live or superseded: tells the owner when compaction pays. */
  lineCount = 0;
  private readonly rotatedPath: string;

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
      if (size > 0) {
        const last = Buffer.alloc(1);
        readSync(fd, last, 0, 1, size - 1);
        if (last[0] !== 0x0a) size += writeSync(fd, "\n");
      }
      this.size = size;
    } finally {
      closeSync(fd);
    }
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

  private write(text: string, bytes: number): Promise<void> {
    return appendFile(this.path, text, { mode: 0o600 }).then(() => {
      this.size += bytes;
    });
  }

  /** Append at start-up, before anything is queued (e.g. recovery records). */
  appendSync(record: T): void {
    this.open();
    const text = line(record);
    const fd = openSync(this.path, "a", 0o600);
    try {
      this.size += writeSync(fd, text);
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
    const carried = this.opts.carry?.() ?? [];
    const text = carried.map(line).join("");
    await writeFile(this.path, text, { mode: 0o600 });
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
