import { readdirSync, rmSync, statSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { InboundMedia } from "../protocol/index.ts";
import { privateDir, writeAtomic } from "../core/atomic.ts";

export type InboundMediaKind = InboundMedia["kind"];

/** `media.maxInboundBytes` / `media.maxTotalBytes`. */
export interface MediaLimits {
  maxInboundBytes: number;
  maxTotalBytes: number;
}

/** What a provider is handed to keep the files of inbound messages (issue 16 §5). */
export interface InboundMediaSink {
  /** The largest file kept (read per message: a config reload applies). */
  maxBytes(): number;
  save(file: { kind: InboundMediaKind; mime: string; data: Uint8Array; name?: string }): Promise<InboundMedia>;
  /** Stream a download in (bounded memory); null when it passed `max` bytes and was dropped. */
  saveStream(file: { kind: InboundMediaKind; mime: string; name?: string }, source: MediaSource, max: number, signal: AbortSignal): Promise<InboundMedia | null>;
}

const EXT: Record<string, string> = {
  "image/jpeg": ".jpg",
  "image/png": ".png",
  "image/webp": ".webp",
  "image/gif": ".gif",
  "audio/ogg": ".ogg",
  "audio/mpeg": ".mp3",
  "audio/mp4": ".m4a",
  "video/mp4": ".mp4",
  "application/pdf": ".pdf",
};

/** A safe extension for a saved file: from the sender's file name, else from the type. */
function extension(mime: string, name?: string): string {
  const fromName = /\.([A-Za-z0-9]{1,8})$/.exec(name ?? "")?.[1];
  return fromName ? `.${fromName.toLowerCase()}` : (EXT[mime.split(";")[0]!.trim()] ?? ".bin");
}

/**
 * Files from inbound messages under `<state>/media/inbound/` (directory 0700, files
 * 0600, written atomically), bounded in total: after each save the oldest files go
 * until the rest fit within `maxTotalBytes`. The sizes are kept in memory (read once),
 * so a save never walks the directory.
 */
export class InboundMediaStore implements InboundMediaSink {
  private files: { path: string; bytes: number; at: number }[] | undefined;
  private total = 0;
  private seq = 0;

  constructor(
    readonly dir: string,
    private readonly limits: () => MediaLimits,
    /** Files younger than this are never pruned: a run may still be reading them (the agent's run timeout). */
    private readonly minAgeMs: () => number = () => 0,
  ) {}

  maxBytes(): number {
    return this.limits().maxInboundBytes;
  }

  private index(): { path: string; bytes: number; at: number }[] {
    if (this.files) return this.files;
    privateDir(this.dir);
    this.files = [];
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith(".tmp")) {
        // A download cut short by a crash: never saved, so never handed to anyone.
        rmSync(join(this.dir, name), { force: true });
        continue;
      }
      try {
        const st = statSync(join(this.dir, name));
        if (st.isFile()) this.files.push({ path: join(this.dir, name), bytes: st.size, at: st.mtimeMs });
      } catch {
        // Removed meanwhile: nothing to count.
      }
    }
    this.files.sort((a, b) => a.at - b.at);
    this.total = this.files.reduce((n, f) => n + f.bytes, 0);
    return this.files;
  }

  private newPath(file: { mime: string; name?: string }): string {
    return join(this.dir, `${Date.now()}-${(++this.seq).toString(36)}-${crypto.randomUUID().slice(0, 8)}${extension(file.mime, file.name)}`);
  }

  async save(file: { kind: InboundMediaKind; mime: string; data: Uint8Array; name?: string }): Promise<InboundMedia> {
    this.index();
    const path = this.newPath(file);
    await writeAtomic(path, file.data, 0o600);
    return this.added(file, path, file.data.byteLength);
  }

  /** Into a temp file (0600) under the cap, then renamed into place: a half-written file is never seen as saved. */
  async saveStream(file: { kind: InboundMediaKind; mime: string; name?: string }, source: MediaSource, max: number, signal: AbortSignal): Promise<InboundMedia | null> {
    this.index();
    const path = this.newPath(file);
    const tmp = `${path}.${process.pid}.tmp`;
    const bytes = await streamToFile(source, tmp, max, signal);
    if (bytes === null) return null;
    await rename(tmp, path);
    return this.added(file, path, bytes);
  }

  private async added(file: { kind: InboundMediaKind; mime: string }, path: string, bytes: number): Promise<InboundMedia> {
    this.files!.push({ path, bytes, at: Date.now() });
    this.total += bytes;
    await this.prune(path);
    return { kind: file.kind, mime: file.mime, bytes, path };
  }

  /**
   * Oldest first, until the total fits; the file just saved stays even when it alone is
   * over, and so does any file younger than `minAgeMs` (a running turn may read it): the
   * total may then stay over the bound until those files age, and the next save prunes them.
   */
  private async prune(keep: string): Promise<void> {
    const files = this.index();
    const max = this.limits().maxTotalBytes;
    const youngest = Date.now() - this.minAgeMs();
    while (this.total > max && files.length > 1 && files[0]!.path !== keep && files[0]!.at <= youngest) {
      const old = files.shift()!;
      this.total -= old.bytes;
      await unlink(old.path).catch(() => {});
    }
  }
}

/**
 * The chunks of a download joined, or null once they pass `max` bytes (the stream is
 * cancelled as soon as they do: a huge file never sits in memory).
 */
export async function collectCapped(chunks: AsyncIterable<Uint8Array>, max: number, cancel: () => unknown): Promise<Uint8Array | null> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    if (size > max) {
      await cancel();
      return null;
    }
    parts.push(chunk);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** A download under way: its chunks, and how to stop it (destroy the stream / cancel the body). */
export interface MediaSource {
  chunks: AsyncIterable<Uint8Array>;
  cancel(): unknown;
}

/** A fetch response's body as a source, or null when its declared length is over `max`. */
export async function responseSource(res: Response, max: number): Promise<MediaSource | null> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  const body = res.body;
  if (!body) return { chunks: (async function* () {})(), cancel: () => {} };
  if (Number.isFinite(declared) && declared > max) {
    await body.cancel().catch(() => {});
    return null;
  }
  return { chunks: body as unknown as AsyncIterable<Uint8Array>, cancel: () => body.cancel().catch(() => {}) };
}

/** What became of a message's file: kept, or skipped with why (and, when over the limit, what it was). */
export interface TakenMedia {
  media?: InboundMedia[];
  mediaSkipped?: string;
  oversized?: { kind: string; name?: string; bytes?: number };
}

/** A file a message holds, before it is fetched. */
export interface MediaCandidate {
  kind: InboundMediaKind;
  mime: string;
  /** The size the provider announced, when it did. */
  size?: number;
  name?: string;
  /** Start the download (at most `max` bytes, stopped by `signal`); null when it is known to be larger. */
  open(max: number, signal: AbortSignal): Promise<MediaSource | null>;
}

const MEDIA_TOO_LARGE = "media too large";
/** A download that takes longer than this is given up (a stalled media host must not hold a message forever). */
const MEDIA_TIMEOUT_MS = 120_000;

/** `promise`, or the signal's reason once it aborts first. */
function raced<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener("abort", onAbort));
}

/**
 * Stream `source` into `path` (created 0600), at most `max` bytes: one chunk in memory
 * at a time. Returns the size, or null once the file passes `max` (the download is
 * stopped and the partial file removed). A stall past `signal` stops it the same way and throws.
 */
async function streamToFile(source: MediaSource, path: string, max: number, signal: AbortSignal): Promise<number | null> {
  const out = await open(path, "wx", 0o600);
  let size = 0;
  let kept = false;
  const it = source.chunks[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await raced(it.next(), signal);
      if (next.done) break;
      size += next.value.byteLength;
      if (size > max) return null;
      await out.write(next.value);
    }
    kept = true;
    return size;
  } finally {
    if (!kept) await Promise.resolve(source.cancel()).catch(() => {});
    await out.close().catch(() => {});
    if (!kept) await unlink(path).catch(() => {});
  }
}

/**
 * Keep a message's file when it fits within `media.maxInboundBytes`: `{media}` when
 * saved, `{mediaSkipped: "media too large"}` when it does not fit (the text goes on).
 * Called only for a message that will be answered: files of refused messages are never fetched.
 */
export async function takeMedia(sink: InboundMediaSink, c: MediaCandidate, timeoutMs = MEDIA_TIMEOUT_MS): Promise<TakenMedia> {
  const max = sink.maxBytes();
  // What the file was, so the agent can be told of it (issue 21 §6) though it was not kept.
  const tooLarge = { mediaSkipped: MEDIA_TOO_LARGE, oversized: { kind: c.kind, ...(c.name ? { name: c.name } : {}), ...(c.size !== undefined ? { bytes: c.size } : {}) } };
  if (c.size !== undefined && c.size > max) return tooLarge;
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = () => (signal.aborted ? new Error(`the download took longer than ${timeoutMs / 1000} s`) : undefined);
  try {
    const source = await raced(c.open(max, signal), signal);
    if (!source) return tooLarge;
    const saved = await sink.saveStream({ kind: c.kind, mime: c.mime, ...(c.name ? { name: c.name } : {}) }, source, max, signal);
    return saved ? { media: [saved] } : tooLarge;
  } catch (err) {
    throw timedOut() ?? err;
  }
}
