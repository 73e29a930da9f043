import type { Lexer as MarkedLexer, Token, Tokens } from "marked";

/**
 * The agent's Markdown, parsed once by `marked`'s lexer (CommonMark + GFM tables and
 * strikethrough), and a walker that renders the tokens for one chat network through a
 * `Markup`: each network says how its bold, code, links… look; block layout (paragraphs,
 * lists, quotes, tables) is shared here, so the renderers stay a few lines each.
 */

/** How one chat network writes each piece. Every string handed in is already rendered, except where named `raw`. */
export interface Markup {
  /** Literal text as the network must receive it (escaped for HTML). */
  text(raw: string): string;
  strong(inner: string): string;
  em(inner: string): string;
  del(inner: string): string;
  code(raw: string): string;
  link(href: string, inner: string): string;
  codeBlock(raw: string, lang: string): string;
  quote(inner: string): string;
  heading(inner: string): string;
  /** A table as monospace lines (already aligned, plain text). */
  table(raw: string): string;
  /** The marker of an unordered list item. */
  bullet: string;
}

/**
 * `marked` is loaded on first need, not at start: building its grammar cost every start
 * ~2 ms (BENCHMARKS.md, 6b). The gateway starts loading it once it listens, and a send
 * that renders Markdown awaits `loadMarkdown()` first (delivery/service.ts).
 */
let Lexer: typeof MarkedLexer | null = null;
let loading: Promise<void> | null = null;

export function loadMarkdown(): Promise<void> {
  return (loading ??= import("marked").then(
    (m) => {
      Lexer = m.Lexer;
    },
    (err: unknown) => {
      loading = null; // the next send tries again
      throw err;
    },
  ));
}

export function markdownLoaded(): boolean {
  return Lexer !== null;
}

function lexer(): typeof MarkedLexer {
  if (!Lexer) throw new Error("marked is not loaded yet: await loadMarkdown() before rendering");
  return Lexer;
}

export function lex(src: string): Token[] {
  return lexer().lex(src, { gfm: true });
}

/** Link targets a chat may open; anything else is shown as text. */
export function safeHref(href: string): string | null {
  return /^(https?:|mailto:|tg:)/i.test(href) ? href : null;
}

/** Inline tokens as the network's markup. */
export function inline(tokens: readonly Token[] | undefined, m: Markup): string {
  let out = "";
  for (const t of tokens ?? []) {
    switch (t.type) {
      case "strong":
        out += m.strong(inline(t.tokens, m));
        break;
      case "em":
        out += m.em(inline(t.tokens, m));
        break;
      case "del":
        out += m.del(inline(t.tokens, m));
        break;
      case "codespan":
        out += m.code(unescapeEntities(t.text));
        break;
      case "br":
        out += "\n";
        break;
      case "link": {
        const href = safeHref(t.href);
        const inner = inline(t.tokens, m);
        out += href ? m.link(href, inner) : inner;
        break;
      }
      case "image": {
        const href = safeHref(t.href);
        out += href ? m.link(href, m.text(t.text || href)) : m.text(t.text);
        break;
      }
      case "text":
        out += t.tokens ? inline(t.tokens, m) : m.text(unescapeEntities(t.text));
        break;
      case "escape":
      case "html":
        out += m.text(t.type === "escape" ? t.text : t.raw);
        break;
      case "checkbox":
        out += (t as Tokens.Checkbox).checked ? "☑ " : "☐ ";
        break;
      default:
        out += m.text(t.raw);
    }
  }
  return out;
}

/** marked keeps `&amp;`-style entities of the source in text tokens; the chat gets the characters. */
function unescapeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_e, n: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[n]!);
}

/** The plain text of inline tokens (for table cells, where alignment needs real widths). */
export function plainInline(tokens: readonly Token[] | undefined): string {
  return inline(tokens, PLAIN);
}

/** Block tokens as the network's markup: blocks separated by a blank line. */
export function blocks(tokens: readonly Token[], m: Markup): string {
  return tokens
    .map((t) => block(t, m))
    .filter((s) => s !== "")
    .join("\n\n");
}

function block(t: Token, m: Markup): string {
  switch (t.type) {
    case "paragraph":
      return inline(t.tokens, m).trim();
    case "text":
      return t.tokens ? inline(t.tokens, m) : m.text(t.text);
    case "heading":
      return m.heading(inline(t.tokens, m));
    case "code":
      return m.codeBlock(t.text, (t.lang ?? "").split(/\s/)[0] ?? "");
    case "blockquote":
      return m.quote(blocks(t.tokens ?? [], m));
    case "list":
      return list(t as Tokens.List, m, "");
    case "table":
      return m.table(table(t as Tokens.Table));
    case "hr":
      return m.text("———");
    case "html":
      // An agent's raw HTML is not markup for a chat: its tags show as text, the Markdown around them still counts.
      return inline(lexer().lexInline(t.raw.trim(), { gfm: true }), m);
    case "space":
    case "def":
      return "";
    default:
      return m.text(t.raw.trim());
  }
}

function list(t: Tokens.List, m: Markup, indent: string): string {
  const start = typeof t.start === "number" ? t.start : 1;
  return t.items
    .map((item, i) => {
      const marker = t.ordered ? `${start + i}. ` : `${m.bullet} `;
      const pad = indent + " ".repeat(marker.length);
      const parts = item.tokens.map((c) => (c.type === "list" ? list(c as Tokens.List, m, pad) : block(c, m))).filter((s) => s !== "");
      const [first = "", ...rest] = parts.join("\n").split("\n");
      return [indent + marker + first, ...rest.map((l) => (l.startsWith(pad) ? l : pad + l))].join("\n");
    })
    .join("\n");
}

/** A table as aligned plain-text columns (header, rule, rows). */
function table(t: Tokens.Table): string {
  const rows = [t.header.map((c) => plainInline(c.tokens)), ...t.rows.map((r) => r.map((c) => plainInline(c.tokens)))];
  const widths = t.header.map((_c, i) => Math.max(...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => {
        const gap = widths[i]! - [...cell].length;
        return t.align[i] === "right" ? " ".repeat(gap) + cell : cell + " ".repeat(gap);
      })
      .join(" | ")
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("-+-"), ...rows.slice(1).map(line)].join("\n");
}

/** Markup that keeps only the words: the text a chat gets when formatting is refused. */
export const PLAIN: Markup = {
  text: (s) => s,
  strong: (s) => s,
  em: (s) => s,
  del: (s) => s,
  code: (s) => s,
  link: (href, inner) => (inner === href || `mailto:${inner}` === href ? inner : `${inner} (${href})`),
  codeBlock: (s) => s,
  quote: (s) => s,
  heading: (s) => s,
  table: (s) => s,
  bullet: "•",
};
