import { realpath } from "node:fs/promises";
import { isAbsolute, sep } from "node:path";
import { assertPublicUrl, PUBLIC_ONLY, UrlRefusedError, type UrlPolicy } from "../media/index.ts";

/** At most this many files go out with one reply; further `MEDIA:` lines are dropped with a reason. */
export const MAX_REPLY_MEDIA = 10;

const MEDIA_LINE = /^[ \t]*MEDIA:[ \t]*<?([^\s<>]+)>?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** A reply with its `MEDIA:` lines taken out: the text that is left and the files named. */
export interface ReplyMedia {
  text: string;
  refs: string[];
}

/**
 * `MEDIA: <https URL or path>` lines of an agent's reply (outside code blocks: an
 * example in a fence is text). The rest of the reply stays as written.
 */
export function parseReplyMedia(reply: string): ReplyMedia {
  if (!reply.includes("MEDIA:")) return { text: reply, refs: [] };
  const kept: string[] = [];
  const refs: string[] = [];
  let fence: string | null = null;
  for (const line of reply.split("\n")) {
    const f = FENCE.exec(line);
    if (f) fence = fence === null ? f[1]![0]! : line.trim().startsWith(fence) ? null : fence;
    const m = fence === null ? MEDIA_LINE.exec(line) : null;
    if (m) refs.push(m[1]!);
    else kept.push(line);
  }
  return { text: kept.join("\n").replace(/\n{3,}/g, "\n\n").trim(), refs };
}

/** Where a `MEDIA:` file comes from, or why it is refused (the ledger's reason). */
export type MediaSource = { mediaUrl: string } | { mediaPath: string } | { refused: string };

/** Why the URL guard refused a `MEDIA:` URL: the rule, and how to allow it. */
function urlRefused(ref: string, err: UrlRefusedError): string {
  if (err.rule === "scheme" || err.rule === "redirects" || err.rule === "unresolvable") return `MEDIA: ${err.message}`;
  const host = new URL(ref).hostname.replace(/^\[|\]$/g, "");
  return `MEDIA: ${ref}: refused: ${err.rule} address (media.allowPrivateUrls is off); to allow it, add "${host}" to media.allowUrlHosts`;
}

/**
 * A `MEDIA:` reference as a send takes it: an http(s) URL goes the way of `send.mediaUrl`
 * (the same fetch and its rules, `media.*`), checked by the URL guard here already so a
 * URL it refuses is a file skipped, not a reply failed; a path only when it lies,
 * symlinks resolved, under one of `agent.mediaDirs` (none by default: every path refused).
 */
export async function resolveReplyMedia(ref: string, mediaDirs: readonly string[], urls: UrlPolicy = PUBLIC_ONLY): Promise<MediaSource> {
  if (/^https?:\/\//i.test(ref)) {
    try {
      await assertPublicUrl(ref, urls);
    } catch (err) {
      if (err instanceof UrlRefusedError) return { refused: urlRefused(ref, err) };
      return { refused: `MEDIA: ${ref}: not a URL (${(err as Error).message})` };
    }
    return { mediaUrl: ref };
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref) && !/^[a-z]:[\\/]/i.test(ref)) return { refused: `MEDIA: ${ref}: only https URLs and file paths can be sent` };
  if (!isAbsolute(ref)) return { refused: `MEDIA: ${ref}: a path must be absolute (under one of agent.mediaDirs)` };
  if (mediaDirs.length === 0) return { refused: `MEDIA: ${ref}: file paths are refused: list the folders the agent may send from in agent.mediaDirs` };
  let real: string;
  try {
    real = await realpath(ref);
  } catch (err) {
    return { refused: `MEDIA: ${ref}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
  for (const dir of mediaDirs) {
    const root = await realpath(dir).catch(() => null);
    if (root && real.startsWith(root.endsWith(sep) ? root : root + sep)) return { mediaPath: real };
  }
  return { refused: `MEDIA: ${ref}: not under any of agent.mediaDirs (${mediaDirs.join(", ")})` };
}
