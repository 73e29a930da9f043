/**
 * Size of `s` encoded as UTF-8, without encoding it. Limits said in bytes count these,
 * not UTF-16 units (`"é".length` is 1, its UTF-8 size 2; an emoji is 2 units, 4 bytes).
 */
export function utf8Length(s: string): number {
  // Node, Bun and Deno have Buffer (native, no copy); the loop is for browsers.
  if (typeof Buffer !== "undefined") return Buffer.byteLength(s, "utf8");
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i += 1;
    } else n += 3;
  }
  return n;
}

/** The longest prefix of `s` within `maxBytes` of UTF-8 that does not split a character. */
export function clipUtf8(s: string, maxBytes: number): string {
  if (utf8Length(s) <= maxBytes) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const size = utf8Length(ch);
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/** The first `max` UTF-16 units of `text`, one fewer if the cut would split a surrogate pair (an emoji). */
export function sliceChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}
