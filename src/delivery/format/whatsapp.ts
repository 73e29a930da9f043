import type { Markup } from "./markdown.ts";

/**
 * Markdown in WhatsApp's own markup: `*bold*`, `_italic_`, `~strike~`, `` `code` ``,
 * ```` ``` ```` blocks, `> ` quotes, `- ` and `1. ` lists. Headings become bold lines,
 * tables aligned monospace blocks. WhatsApp has no escape character: literal text goes as is.
 */
export const WHATSAPP: Markup = {
  text: (s) => s,
  strong: (s) => wrap("*", s),
  em: (s) => wrap("_", s),
  del: (s) => wrap("~", s),
  code: (s) => (s.includes("`") ? s : `\`${s}\``),
  link: (href, inner) => (inner === href || `mailto:${inner}` === href ? inner : `${inner} (${href})`),
  codeBlock: (s) => `\`\`\`\n${s}\n\`\`\``,
  quote: (s) =>
    s
      .split("\n")
      .map((l) => `> ${l}`)
      .join("\n"),
  heading: (s) => wrap("*", s),
  table: (s) => `\`\`\`\n${s}\n\`\`\``,
  bullet: "-",
};

/** A marker only works hugging its words: spaces move outside, so `** bold **` is still bold. */
function wrap(mark: string, inner: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(inner)!;
  return m[2] ? `${m[1]}${mark}${m[2]}${mark}${m[3]}` : inner;
}
