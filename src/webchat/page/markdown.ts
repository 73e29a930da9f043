/// <reference lib="dom" />
/**
 * Safe markdown for the page: code blocks, inline code, bold, italic, http(s) links,
 * lists, headings as bold, line breaks. It builds elements one by one and puts every piece
 * of input in text nodes, so no input can become markup (the CSP's Trusted Types rule
 * would refuse any `innerHTML` anyway); links accept http: and https: only.
 */

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

const INLINE =
  /`([^`\n]+)`|\*\*(?=\S)([^*\n]+?)\*\*|__(?=\S)([^_\n]+?)__|\*(?=[^\s*])([^*\n]+?)\*|(?<!\w)_(?=[^\s_])([^_\n]+?)_(?!\w)|\[([^\]\n]+)\]\(([^()\s]+)\)|(https?:\/\/[^\s<>"'()[\]]*[^\s<>"'()[\].,;:!?])/g;

function safeUrl(raw: string): string | null {
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

function link(url: string, parent: HTMLElement | DocumentFragment): HTMLAnchorElement {
  const a = h("a", { rel: "noopener noreferrer nofollow", target: "_blank" });
  a.href = url;
  parent.append(a);
  return a;
}

function inline(text: string, parent: HTMLElement, depth: number): void {
  const re = new RegExp(INLINE.source, "g");
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m.index > last) parent.append(text.slice(last, m.index));
    const [whole, code, bold1, bold2, em1, em2, label, href, bare] = m;
    if (code !== undefined) parent.append(h("code", { text: code }));
    else if (bold1 !== undefined || bold2 !== undefined) {
      const b = h("strong");
      nested((bold1 ?? bold2)!, b, depth);
      parent.append(b);
    } else if (em1 !== undefined || em2 !== undefined) {
      const i = h("em");
      nested((em1 ?? em2)!, i, depth);
      parent.append(i);
    } else if (label !== undefined) {
      const url = safeUrl(href!);
      if (url) nested(label, link(url, parent), depth);
      else parent.append(whole);
    } else if (bare !== undefined) {
      const url = safeUrl(bare);
      if (url) link(url, parent).textContent = bare;
      else parent.append(bare);
    }
    last = re.lastIndex;
  }
  if (last < text.length) parent.append(text.slice(last));
}

function nested(text: string, parent: HTMLElement, depth: number): void {
  if (depth >= 3) parent.append(text);
  else inline(text, parent, depth + 1);
}

const BULLET = /^\s*[-*+]\s+/;
const NUMBERED = /^\s*\d+[.)]\s+/;

function blocks(text: string, parent: DocumentFragment): void {
  for (const raw of text.split(/\n[ \t]*\n/)) {
    const para = raw.replace(/^\n+|\n+$/g, "");
    if (!para.trim()) continue;
    const lines = para.split("\n");
    if (lines.every((l) => BULLET.test(l)) || lines.every((l) => NUMBERED.test(l))) {
      const isNum = NUMBERED.test(lines[0]!);
      const list = h(isNum ? "ol" : "ul");
      for (const l of lines) {
        const li = h("li");
        inline(l.replace(isNum ? NUMBERED : BULLET, ""), li, 0);
        list.append(li);
      }
      parent.append(list);
      continue;
    }
    const el = h("p");
    lines.forEach((l, i) => {
      if (i > 0) el.append(h("br"));
      const heading = /^#{1,6}\s+(.*)$/.exec(l);
      if (heading) {
        const s = h("strong");
        inline(heading[1]!, s, 1);
        el.append(s);
      } else inline(l, el, 0);
    });
    parent.append(el);
  }
}

/** Replace `target`'s content with `src` rendered (a fence still streaming shows as code). */
export function renderMarkdown(src: string, target: Element): void {
  const frag = document.createDocumentFragment();
  src.split("```").forEach((part, i) => {
    if (i % 2 === 0) return blocks(part, frag);
    const nl = part.indexOf("\n");
    let lang = "";
    let code = part;
    if (nl >= 0 && /^[\w+#.-]*$/.test(part.slice(0, nl).trim())) {
      lang = part.slice(0, nl).trim();
      code = part.slice(nl + 1);
    }
    const c = h("code", { text: code.replace(/\n$/, "") });
    if (lang) c.setAttribute("data-lang", lang);
    frag.append(h("pre", null, c));
  });
  target.replaceChildren(frag);
}
