import { chmodSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type { InboundMedia } from "../protocol/index.ts";
import { writeAtomic } from "../providers/state-file.ts";

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
  ) {}

  maxBytes(): number {
    return this.limits().maxInboundBytes;
  }

  private index(): { path: string; bytes: number; at: number }[] {
    if (this.files) return this.files;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    this.files = [];
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith(".tmp")) continue;
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

  async save(file: { kind: InboundMediaKind; mime: string; data: Uint8Array; name?: string }): Promise<InboundMedia> {
    const files = this.index();
    const stamp = Date.now();
    const path = join(this.dir, `${stamp}-${(++this.seq).toString(36)}-${crypto.randomUUID().slice(0, 8)}${extension(file.mime, file.name)}`);
    await writeAtomic(path, file.data, 0o600);
    files.push({ path, bytes: file.data.byteLength, at: stamp });
    this.total += file.data.byteLength;
    await this.prune(path);
    return { kind: file.kind, mime: file.mime, bytes: file.data.byteLength, path };
  }

  /** Oldest first, until the total fits; the file just saved stays even when it alone is over. */
  private async prune(keep: string): Promise<void> {
    const files = this.index();
    const max = this.limits().maxTotalBytes;
    while (this.total > max && files.length > 1 && files[0]!.path !== keep) {
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

/** The body of a download, or null when it is (declared or turns out) larger than `max` bytes. */
export async function readCapped(res: Response, max: number): Promise<Uint8Array | null> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (!res.body) return new Uint8Array(0);
  const body = res.body;
  if (Number.isFinite(declared) && declared > max) {
    await body.cancel().catch(() => {});
    return null;
  }
  return collectCapped(body as unknown as AsyncIterable<Uint8Array>, max, () => body.cancel().catch(() => {}));
}

/** A file a message holds, before it is fetched. */
export interface MediaCandidate {
  kind: InboundMediaKind;
  mime: string;
  /** The size the provider announced, when it did. */
  size?: number;
  name?: string;
  /** Fetch it, at most `max` bytes; null when it is larger. */
  fetch(max: number): Promise<Uint8Array | null>;
}

export const MEDIA_TOO_LARGE = "media too large";

/**
 * Keep a message's file when it fits within `media.maxInboundBytes`: `{media}` when
 * saved, `{mediaSkipped: "media too large"}` when it does not fit (the text goes on).
 */
export async function takeMedia(sink: InboundMediaSink, c: MediaCandidate): Promise<{ media?: InboundMedia[]; mediaSkipped?: string }> {
  const max = sink.maxBytes();
  if (c.size !== undefined && c.size > max) return { mediaSkipped: MEDIA_TOO_LARGE };
  const data = await c.fetch(max);
  if (!data) return { mediaSkipped: MEDIA_TOO_LARGE };
  return { media: [await sink.save({ kind: c.kind, mime: c.mime, data, ...(c.name ? { name: c.name } : {}) })] };
}
