/// <reference lib="dom" />
/**
 * Safe markdown for the page: `marked`'s lexer (CommonMark + GFM, the same parser the
 * gateway renders chat replies with) gives tokens, and this file turns them into elements
 * one by one with every piece of input in text nodes, so no input can become markup (the
 * CSP's Trusted Types rule would refuse any `innerHTML` anyway); links accept http: and
 * https: only. marked's own HTML output is never used.
 */
import { Lexer, type Token, type Tokens } from "marked";

/** Attributes to set; `text` sets textContent and `class` the class name. */
export type Props = Record<string, string> | null | undefined;
export type Child = Node | string | null | undefined;

/** Build an element: children are nodes or strings (text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props) {
    for (const [k, value] of Object.entries(props)) {
      if (k === "text") e.textContent = value;
      else if (k === "class") e.className = value;
      else e.setAttribute(k, value);
    }
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function safeUrl(raw: string): string | null {
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** marked keeps the source's `&amp;`-style entities in text; the page shows the characters. */
const chars = (s: string) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_e, n: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[n]!);

/** Inline tokens into `parent`; nesting is bounded by the lexer's own output. */
function inline(tokens: readonly Token[] | undefined, parent: HTMLElement): void {
  for (const t of tokens ?? []) {
    switch (t.type) {
      case "strong":
      case "em":
      case "del": {
        const e = h(t.type === "strong" ? "strong" : t.type === "em" ? "em" : "del");
        inline(t.tokens, e);
        parent.append(e);
        break;
      }
      case "codespan":
        parent.append(h("code", { text: chars(t.text) }));
        break;
      case "br":
        parent.append(h("br"));
        break;
      case "link":
      case "image": {
        const url = safeUrl(t.href);
        if (!url) {
          parent.append(t.type === "image" ? t.text : t.raw);
          break;
        }
        const a = h("a", { rel: "noopener noreferrer nofollow", target: "_blank" });
        a.href = url;
        if (t.type === "image") a.textContent = t.text || url;
        else inline(t.tokens, a);
        parent.append(a);
        break;
      }
      case "text":
        inlineText(t as Tokens.Text, parent);
        break;
      case "escape":
        parent.append(t.text);
        break;
      case "checkbox":
        parent.append((t as Tokens.Checkbox).checked ? "☑ " : "☐ ");
        break;
      default:
        parent.append(t.raw);
    }
  }
}

function inlineText(t: Tokens.Text, parent: HTMLElement): void {
  if (t.tokens) inline(t.tokens, parent);
  else textWithBreaks(chars(t.text), parent);
}

/** A soft line break in the source stays a line break on the page (chat replies are written line by line). */
function textWithBreaks(text: string, parent: HTMLElement): void {
  text.split("\n").forEach((line, i) => {
    if (i > 0) parent.append(h("br"));
    if (line) parent.append(line);
  });
}

function blocks(tokens: readonly Token[], parent: HTMLElement | DocumentFragment): void {
  for (const t of tokens) {
    switch (t.type) {
      case "paragraph": {
        const p = h("p");
        inline(t.tokens, p);
        parent.append(p);
        break;
      }
      case "heading": {
        // Headings as bold lines: a chat reply has no document outline.
        const s = h("strong");
        inline(t.tokens, s);
        parent.append(h("p", null, s));
        break;
      }
      case "code": {
        const c = h("code", { text: t.text });
        const lang = ((t as Tokens.Code).lang ?? "").split(/\s/)[0];
        if (lang) c.setAttribute("data-lang", lang);
        parent.append(h("pre", null, c));
        break;
      }
      case "blockquote": {
        const q = h("blockquote");
        blocks(t.tokens ?? [], q);
        parent.append(q);
        break;
      }
      case "list": {
        const l = t as Tokens.List;
        const list = h(l.ordered ? "ol" : "ul");
        if (l.ordered && typeof l.start === "number" && l.start !== 1) list.setAttribute("start", String(l.start));
        for (const item of l.items) {
          const li = h("li");
          // A tight item's words go straight into the item; its other blocks (a nested list) as blocks.
          for (const c of item.tokens) {
            if (c.type === "text") inlineText(c as Tokens.Text, li);
            else blocks([c], li);
          }
          list.append(li);
        }
        parent.append(list);
        break;
      }
      case "table": {
        const tb = t as Tokens.Table;
        const row = (cells: Tokens.TableCell[], tag: "th" | "td") =>
          h("tr", null, ...cells.map((c, i) => {
            const cell = h(tag);
            if (tb.align[i]) cell.style.textAlign = tb.align[i]!;
            inline(c.tokens, cell);
            return cell;
          }));
        parent.append(h("table", null, h("thead", null, row(tb.header, "th")), h("tbody", null, ...tb.rows.map((r) => row(r, "td")))));
        break;
      }
      case "text": {
        const p = h("p");
        inlineText(t as Tokens.Text, p);
        parent.append(p);
        break;
      }
      case "hr":
        parent.append(h("hr"));
        break;
      case "html": {
        // Raw HTML is never markup here: its tags show as text, the Markdown around them still works.
        const p = h("p");
        inline(Lexer.lexInline(t.raw.trim(), { gfm: true }), p);
        parent.append(p);
        break;
      }
      case "space":
      case "def":
        break;
      default:
        parent.append(h("p", { text: t.raw }));
    }
  }
}

/** Replace `target`'s content with `src` rendered (a fence still streaming shows as code). */
export function renderMarkdown(src: string, target: Element): void {
  const frag = document.createDocumentFragment();
  blocks(Lexer.lex(src, { gfm: true }), frag);
  target.replaceChildren(frag);
}
