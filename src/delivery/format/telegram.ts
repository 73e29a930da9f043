import type { Markup } from "./markdown.ts";

/** Telegram's HTML `parse_mode` needs only `<`, `>` and `&` escaped in text (and `"` inside an attribute). */
const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const escapeAttr = (s: string) => escapeHtml(s).replace(/"/g, "&quot;");

/**
 * Markdown as Telegram HTML (`parse_mode: "HTML"`): the tags Telegram knows (b, i, s,
 * code, pre with a language class, a, blockquote); headings are bold lines and tables
 * aligned monospace, which Telegram has no tags for.
 */
export const TELEGRAM_HTML: Markup = {
  text: escapeHtml,
  strong: (s) => `<b>${s}</b>`,
  em: (s) => `<i>${s}</i>`,
  del: (s) => `<s>${s}</s>`,
  code: (s) => `<code>${escapeHtml(s)}</code>`,
  link: (href, inner) => `<a href="${escapeAttr(href)}">${inner}</a>`,
  codeBlock: (s, lang) =>
    lang && /^[\w+#.-]+$/.test(lang) ? `<pre><code class="language-${lang}">${escapeHtml(s)}</code></pre>` : `<pre>${escapeHtml(s)}</pre>`,
  quote: (s) => `<blockquote>${s}</blockquote>`,
  heading: (s) => `<b>${s}</b>`,
  table: (s) => `<pre>${escapeHtml(s)}</pre>`,
  bullet: "•",
};

/**
 * The words of a Telegram HTML message, for when Telegram refuses its markup: tags
 * dropped (a link keeps its address), entities decoded.
 */
export function telegramHtmlToPlain(html: string): string {
  return html
    .replace(/<a href="([^"]*)">([\s\S]*?)<\/a>/g, (_m, href: string, inner: string) => (inner === href ? inner : `${inner} (${href})`))
    .replace(/<[^>]*>/g, "")
    .replace(/&(amp|lt|gt|quot);/g, (_e, n: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"' })[n]!);
}

/** A rendered part that holds markup (a tag or an entity) must go with `parse_mode`; one without is plain text as it is. */
export const needsHtmlMode = (part: string): boolean => /[<&]/.test(part);
