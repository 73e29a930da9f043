import { collectCapped, fetchPublicUrl, PUBLIC_ONLY, UrlRefusedError, type UrlPolicy } from "../media/index.ts";
import { GatewayError } from "../protocol/index.ts";

/** Media kinds a provider can send, from the Content-Type of the fetched URL. */
export type MediaKind = "image" | "video" | "audio" | "document";

export interface FetchedMedia {
  data: Uint8Array;
  contentType: string;
  kind: MediaKind;
  fileName: string;
}

export const MAX_MEDIA_BYTES = 16 * 1024 * 1024;
const ALLOWED = /^(image|video|audio)\/|^application\/(pdf|zip|octet-stream|msword|vnd\.|json)|^text\/plain/;

/** A media URL that cannot be sent; `rule` when the URL guard refused it (`loopback`, `private`, …). */
export class MediaError extends Error {
  constructor(
    message: string,
    readonly rule?: string,
  ) {
    super(message);
  }
}

export function mediaKind(contentType: string): MediaKind {
  if (contentType.startsWith("image/")) return "image";
  if (contentType.startsWith("video/")) return "video";
  if (contentType.startsWith("audio/")) return "audio";
  return "document";
}

/** The file name a URL names (its last path segment, percent-decoded); a MediaError for a URL that cannot be fetched or decoded. */
function mediaFileName(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MediaError(`mediaUrl ${JSON.stringify(url)} is not a URL: pass an absolute http(s) URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new MediaError(`mediaUrl ${url}: only http and https URLs can be fetched (got ${parsed.protocol})`);
  }
  const last = parsed.pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(last) || "file";
  } catch {
    throw new MediaError(`mediaUrl ${url}: the path has a malformed percent-escape (${JSON.stringify(last)}); encode it with encodeURIComponent`);
  }
}

/**
 * Fetch media by URL with a size cap (checked on the header and while reading) and a
 * content-type check, so a send never buffers an unbounded or unexpected body.
 */
export async function fetchMedia(url: string, opts: { maxBytes?: number; signal?: AbortSignal; policy?: UrlPolicy } = {}): Promise<FetchedMedia> {
  const max = opts.maxBytes ?? MAX_MEDIA_BYTES;
  // Everything about the URL is checked before a byte is downloaded.
  const fileName = mediaFileName(url);
  let res: Response;
  try {
    // Internal addresses are refused on the URL and on every redirect hop (media.allowPrivateUrls, media.allowUrlHosts).
    res = await fetchPublicUrl(url, opts.policy ?? PUBLIC_ONLY, opts.signal ? { signal: opts.signal } : {});
  } catch (err) {
    if (err instanceof UrlRefusedError) throw new MediaError(`mediaUrl ${err.message}`, err.rule);
    throw new MediaError(`mediaUrl ${url}: fetch failed (${(err as Error).message})`);
  }
  if (!res.ok || !res.body) throw new MediaError(`mediaUrl ${url}: HTTP ${res.status}`);
  const contentType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (!ALLOWED.test(contentType)) {
    await res.body.cancel().catch(() => {});
    throw new MediaError(`mediaUrl ${url}: content type ${JSON.stringify(contentType || "none")} is not sendable media`);
  }
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > max) {
    await res.body.cancel().catch(() => {});
    throw new MediaError(`mediaUrl ${url}: ${declared} bytes is over the ${max}-byte limit`);
  }
  const body = res.body;
  const data = await collectCapped(body as unknown as AsyncIterable<Uint8Array>, max, () => body.cancel().catch(() => {}));
  if (!data) throw new MediaError(`mediaUrl ${url}: body is over the ${max}-byte limit`);
  return { data, contentType, kind: mediaKind(contentType), fileName };
}

/**
 * A send's file that cannot be fetched or read: the caller's mistake (INVALID_REQUEST, as
 * `send` answers it), and for an agent's `MEDIA:` file a reason to skip the file, not to
 * fail the reply (src/delivery/reply.ts).
 */
export class SendMediaError extends GatewayError {}

/** `fetchMedia` for a send: a URL or body that cannot be sent is the caller's mistake (INVALID_REQUEST on `params.mediaUrl`). */
export async function fetchSendMedia(url: string, policy?: UrlPolicy): Promise<FetchedMedia> {
  try {
    return await fetchMedia(url, policy ? { policy } : {});
  } catch (err) {
    if (err instanceof MediaError) {
      throw new SendMediaError("INVALID_REQUEST", err.message, { details: { field: "params.mediaUrl", ...(err.rule ? { rule: err.rule } : {}) } });
    }
    throw err;
  }
}

/** Content types by file extension, for files the agent sends from disk (`MEDIA:` paths). */
const TYPE_BY_EXT: Record<string, string> = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", gif: "image/gif", webp: "image/webp",
  mp4: "video/mp4", mov: "video/quicktime", mp3: "audio/mpeg", ogg: "audio/ogg", m4a: "audio/mp4", wav: "audio/wav",
  pdf: "application/pdf", zip: "application/zip", json: "application/json", txt: "text/plain", csv: "text/csv", md: "text/markdown",
};

/**
 * A file the agent named by path (already checked to lie under `agent.mediaDirs`): read
 * whole, within the same size cap as a fetched URL; its type from the extension.
 */
export async function readSendFile(path: string, maxBytes = MAX_MEDIA_BYTES): Promise<FetchedMedia> {
  const { readFile, stat } = await import("node:fs/promises");
  const fileName = path.split(/[\\/]/).pop() || "file";
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new MediaError(`media file ${fileName}: not a regular file`);
    if (st.size > maxBytes) throw new MediaError(`media file ${fileName}: ${st.size} bytes is over the ${maxBytes}-byte limit`);
    const contentType = TYPE_BY_EXT[fileName.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream";
    return { data: new Uint8Array(await readFile(path)), contentType, kind: mediaKind(contentType), fileName };
  } catch (err) {
    const message = err instanceof MediaError ? err.message : `media file ${fileName}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    throw new SendMediaError("INVALID_REQUEST", message, { details: { field: "mediaPath" } });
  }
}

/** The file of a send: a path the gateway vetted (`mediaPath`), or a URL fetched by its rules (`mediaUrl`); undefined for a text. */
export function sendMedia(params: { mediaUrl?: string | undefined; mediaPath?: string | undefined }, policy?: UrlPolicy): Promise<FetchedMedia> | undefined {
  if (params.mediaPath) return readSendFile(params.mediaPath);
  return params.mediaUrl ? fetchSendMedia(params.mediaUrl, policy) : undefined;
}
