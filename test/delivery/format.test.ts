/** Issue 23 §6: the agent's Markdown parsed once (marked) and rendered per network; the split counts what is sent. */
import { beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { loadMarkdown, renderFor, renderReply, telegramHtmlToPlain, telegramPart } from "../../src/delivery/format/index.ts";

// marked is loaded on first need (the gateway starts it once it listens).
beforeAll(() => loadMarkdown());

/** Every tag opened is closed in the same part, in order, and no entity is cut. */
function wellFormed(html: string): boolean {
  const stack: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-z]+)[^>]*>/g)) {
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else stack.push(m[2]!);
  }
  return stack.length === 0 && !/&[a-z]*$/.test(html) && !/<[^>]*$/.test(html);
}

describe("Telegram HTML", () => {
  test("bold, italic, strike, inline code, code with language, links, quotes; headings bold; text escaped", () => {
    expect(renderFor("telegram", "**b** *i* ~~s~~ `a<b` [x](https://e.com/?q=1&r=\"2\")")).toBe(
      '<b>b</b> <i>i</i> <s>s</s> <code>a&lt;b</code> <a href="https://e.com/?q=1&amp;r=&quot;2&quot;">x</a>',
    );
    expect(renderFor("telegram", "```py\nprint(1 < 2)\n```")).toBe('<pre><code class="language-py">print(1 &lt; 2)</code></pre>');
    expect(renderFor("telegram", "## Plan\n\n> be **there**")).toBe("<b>Plan</b>\n\n<blockquote>be <b>there</b></blockquote>");
    expect(renderFor("telegram", "Fish & chips <3 [js](javascript:alert(1))")).toBe("Fish &amp; chips &lt;3 js");
  });

  test("a table becomes aligned monospace; a list after a paragraph line stays a list", () => {
    expect(renderFor("telegram", "| name | n |\n|---|--:|\n| Alice | 3 |\n| Bo | 12 |")).toBe("<pre>name  |  n\n------+---\nAlice |  3\nBo    | 12</pre>");
    expect(renderFor("telegram", "To do:\n- one\n- two\n  1. deep")).toBe("To do:\n\n• one\n• two\n  1. deep");
  });

  test("parse_mode only where there is markup; the plain fallback keeps words and link targets", () => {
    expect(telegramPart("just words")).toEqual({});
    const html = renderFor("telegram", "**hi** & [site](https://e.com)");
    expect(telegramPart(html)).toEqual({ parseMode: "HTML", plain: "hi & site (https://e.com)" });
    expect(telegramHtmlToPlain("<pre>a &lt; b</pre>")).toBe("a < b");
  });
});

describe("WhatsApp markup", () => {
  test("*bold*, _italic_, ~strike~, ```mono```, > quote, lists; links as text (url)", () => {
    expect(renderFor("whatsapp", "**b** *i* ~~s~~ `c` [x](https://e.com)")).toBe("*b* _i_ ~s~ `c` x (https://e.com)");
    expect(renderFor("whatsapp", "# Title\n\n> quoted\n> lines\n\n1. a\n2. b\n\n- c\n\n```\ncode\n```")).toBe(
      "*Title*\n\n> quoted\n> lines\n\n1. a\n2. b\n\n- c\n\n```\ncode\n```",
    );
    expect(renderFor("whatsapp", "snake_case_name and a*b")).toBe("snake_case_name and a*b");
  });
});

describe("the split counts what is sent", () => {
  test("rendered parts stay within the limit even when escaping makes the text longer", () => {
    const src = Array.from({ length: 400 }, (_, i) => `row ${i}: a<b & c>d **bold ${i}**`).join("\n");
    expect(src.length).toBeLessThan(4096 * 4);
    const parts = renderReply("telegram", src, 4096);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(4096);
      expect(wellFormed(p)).toBe(true);
    }
    // Nothing lost: the words of the parts are the words of the source.
    expect(parts.map(telegramHtmlToPlain).join("\n").replace(/\s+/g, " ")).toBe(src.replace(/\*\*/g, "").replace(/\s+/g, " "));
  });

  test("a caption's smaller limit applies to the first part only", () => {
    const src = Array.from({ length: 30 }, (_, i) => `Paragraph ${i} with **some** words in it.`).join("\n\n");
    const parts = renderReply("telegram", src, 4096, 200);
    expect(parts[0]!.length).toBeLessThanOrEqual(200);
    expect(parts.slice(1).every((p) => p.length <= 4096)).toBe(true);
    expect(parts.length).toBe(2);
  });

  test("property: any text, any limit — every part within the limit and well formed", () => {
    const piece = fc.constantFrom("**b**", "_i_", "`c<d`", "a & b", "<tag>", "\n", "\n\n", "- item\n", "> q\n", "```\nx < y\n```\n", "word ", "[l](https://e.com/?a=1&b=2) ");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 400 }), fc.integer({ min: 100, max: 600 }), (pieces, limit) => {
        const parts = renderReply("telegram", pieces.join(""), limit);
        return parts.every((p) => p.length <= limit && wellFormed(p));
      }),
      { numRuns: 150 },
    );
  });
});
