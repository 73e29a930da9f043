/**
 * Long messages as several: split at paragraph, then line, then sentence, then word
 * boundaries (a hard cut only for a "word" longer than the limit), never inside a fenced
 * code block unless the block alone is too long — then it is cut between lines and each
 * piece is closed and re-opened with the block's own fence lines, so every part renders.
 * Lengths are UTF-16 code units, as Telegram counts them.
 */

/** Telegram's limit for one text message. */
export const TELEGRAM_MAX_CHARS = 4096;
/** Telegram's limit for a media caption. */
export const TELEGRAM_MAX_CAPTION_CHARS = 1024;

/** The smallest limit the splitter accepts (room for a fence's open/close lines and some code). */
export const MIN_SPLIT_LIMIT = 64;

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[^\n]*$/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/** Boundaries from coarse to fine; each piece keeps its separator at its end. */
const LEVELS = [/\n[ \t]*\n\s*/g, /\n/g, /[.!?…][)"'\]»”’]*\s+/g, /\s+/g];

interface Unit {
  text: string;
  /** Set for a fenced code block: its opening and closing lines. */
  fence?: { open: string; close: string; body: string };
}

/** Split `text` into parts of at most `limit` characters; text within the limit comes back as is. */
export function splitMessage(text: string, limit: number): string[] {
  if (!Number.isInteger(limit) || limit < MIN_SPLIT_LIMIT) {
    throw new RangeError(`splitMessage: limit must be an integer ≥ ${MIN_SPLIT_LIMIT}, got ${limit}`);
  }
  if (text.length <= limit) return [text];
  const units: Unit[] = [];
  for (const seg of segments(text)) {
    if (seg.fence) units.push(seg);
    else for (const p of splitAfter(seg.text, LEVELS[0]!)) units.push({ text: p });
  }
  const parts = pack(units, limit, (u) => (u.fence ? splitFence(u.fence, limit) : refine(u.text, limit, 1)));
  return parts.map((p) => p.replace(/^\n+/, "").trimEnd()).filter((p) => p.length > 0);
}

/**
 * Parts of a message that goes with media: the first part is the caption, which may
 * have a smaller limit than a text message; the rest are plain messages.
 */
export function splitWithCaption(text: string, limit: number, captionLimit: number): string[] {
  if (text.length <= captionLimit) return [text];
  const first = splitMessage(text, captionLimit)[0]!;
  const at = text.indexOf(first);
  // The caption ended in a cut code block (its closing fence is not in the text): keep every part within the caption limit.
  if (at < 0) return splitMessage(text, captionLimit);
  const rest = text.slice(at + first.length).replace(/^\s+/, "");
  return rest ? [first, ...splitMessage(rest, limit)] : [first];
}

/** Prose and fenced code blocks in order; a fence without a closing line runs to the end. */
function segments(text: string): Unit[] {
  const lines = text.split(/(?<=\n)/);
  const out: Unit[] = [];
  let prose = "";
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    const open = FENCE_OPEN.exec(line.replace(/\n$/, ""));
    if (!open) {
      prose += line;
      i++;
      continue;
    }
    const marker = open[1]!;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = FENCE_CLOSE.exec(lines[j]!.replace(/\n$/, ""));
      if (close && close[1]![0] === marker[0] && close[1]!.length >= marker.length) break;
    }
    if (prose) out.push({ text: prose });
    prose = "";
    const closed = j < lines.length;
    const end = closed ? j + 1 : j;
    out.push({
      text: lines.slice(i, end).join(""),
      fence: {
        open: line.replace(/\n$/, ""),
        close: closed ? lines[j]!.replace(/\n$/, "") : marker,
        body: lines.slice(i + 1, closed ? j : j).join(""),
      },
    });
    i = end;
  }
  if (prose) out.push({ text: prose });
  return out;
}

/** Cut after every match of `re` (global). */
function splitAfter(text: string, re: RegExp): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const end = m.index + m[0].length;
    if (end > last) {
      out.push(text.slice(last, end));
      last = end;
    }
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/**
 * Greedy: units are joined while the part stays within the limit (trailing whitespace is
 * trimmed at the end, so it does not count); a unit too long on its own is refined.
 */
function pack<U extends { text: string }>(units: U[], limit: number, tooLong: (u: U) => string[]): string[] {
  const parts: string[] = [];
  let cur = "";
  const flush = () => {
    if (cur.trim()) parts.push(cur);
    cur = "";
  };
  for (const u of units) {
    if ((cur + u.text).trimEnd().length <= limit) {
      cur += u.text;
      continue;
    }
    flush();
    if (u.text.trimEnd().length <= limit) {
      cur = u.text;
      continue;
    }
    const sub = tooLong(u);
    parts.push(...sub.slice(0, -1));
    cur = sub.at(-1) ?? "";
  }
  flush();
  return parts;
}

/** Prose too long at boundary level `level - 1`: the next finer boundary, then hard cuts. */
function refine(text: string, limit: number, level: number): string[] {
  const re = LEVELS[level];
  if (!re) return hardCut(text, limit);
  return pack(
    splitAfter(text, re).map((t) => ({ text: t })),
    limit,
    (u) => refine(u.text, limit, level + 1),
  );
}

/** Fixed-size pieces that never separate a surrogate pair. */
function hardCut(text: string, limit: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    let end = Math.min(text.length, i + limit);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/** A code block longer than the limit: cut between lines; every piece is a closed block of its own. */
function splitFence(fence: NonNullable<Unit["fence"]>, limit: number): string[] {
  const budget = limit - fence.open.length - fence.close.length - 2;
  if (budget < MIN_SPLIT_LIMIT / 2) return refine(`${fence.open}\n${fence.body}${fence.close}`, limit, 1);
  const lines = splitAfter(fence.body, /\n/g).map((t) => ({ text: t }));
  return pack(lines, budget, (u) => hardCut(u.text, budget)).map((body) => `${fence.open}\n${body.trimEnd()}\n${fence.close}\n`);
}
