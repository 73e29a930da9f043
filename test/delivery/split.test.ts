/** Runbook issue 16 §4: long replies split at paragraph → line → sentence → word boundaries, fences kept whole. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { splitMessage, splitWithCaption } from "../../src/delivery/split.ts";

const squash = (s: string) => s.replace(/\s+/g, "");
const fenceLines = (s: string) => s.split("\n").filter((l) => /^```/.test(l)).length;

describe("splitMessage: boundaries in order of preference", () => {
  test("text within the limit comes back unchanged, as one part", () => {
    expect(splitMessage("hello\n\nworld  ", 100)).toEqual(["hello\n\nworld  "]);
    expect(splitMessage("", 100)).toEqual([""]);
  });

  test("paragraphs first: a cut at a blank line, not inside a paragraph", () => {
    const a = "A".repeat(50) + ". " + "a".repeat(40);
    const b = "B".repeat(60);
    expect(splitMessage(`${a}\n\n${b}`, 100)).toEqual([a, b]);
  });

  test("then lines, then sentences, then words, then a hard cut", () => {
    expect(splitMessage(`${"x".repeat(60)}\n${"y".repeat(60)}`, 100)).toEqual(["x".repeat(60), "y".repeat(60)]);
    expect(splitMessage(`${"One sentence here. ".repeat(3)}Two${" more".repeat(10)}.`, 64)).toEqual([
      "One sentence here. One sentence here. One sentence here.",
      `Two${" more".repeat(10)}.`,
    ]);
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
    const parts = splitMessage(words, 64);
    expect(parts.length).toBe(2);
    for (const p of parts) expect(p.startsWith("w") && /\d$/.test(p)).toBe(true);
    expect(splitMessage("z".repeat(150), 64)).toEqual(["z".repeat(64), "z".repeat(64), "z".repeat(22)]);
  });

  test("a hard cut never separates a surrogate pair", () => {
    const parts = splitMessage("😀".repeat(100), 65);
    for (const p of parts) expect(p).toBe("😀".repeat(p.length / 2));
    expect(parts.join("")).toBe("😀".repeat(100));
  });

  test("a code block that fits is never cut, even when a line cut would fill the part better", () => {
    const code = "```ts\n" + Array.from({ length: 6 }, (_, i) => `const v${i} = ${i};`).join("\n") + "\n```";
    const text = `${"p".repeat(70)}\n${code}\n${"q".repeat(20)}`;
    const parts = splitMessage(text, 128);
    expect(parts.some((p) => p.includes(code))).toBe(true);
    for (const p of parts) expect(fenceLines(p) % 2).toBe(0);
  });

  test("a code block too long on its own is cut between lines; each piece is closed and re-opened", () => {
    const body = Array.from({ length: 40 }, (_, i) => `  line ${i} of the code`).join("\n");
    const parts = splitMessage("intro\n\n```python\n" + body + "\n```\n\noutro", 200);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(200);
      expect(fenceLines(p) % 2).toBe(0);
    }
    const code = parts.filter((p) => p.includes("```python"));
    expect(code.length).toBeGreaterThan(1);
    // Indentation survives inside the block, and every line is there once, in order.
    const lines = code.flatMap((p) => p.split("\n").filter((l) => l.startsWith("  line")));
    expect(lines).toEqual(body.split("\n"));
  });

  test("rejects a limit too small to hold a fence", () => {
    expect(() => splitMessage("x", 10)).toThrow(/limit must be an integer ≥ 64/);
  });
});

describe("splitWithCaption: media whose caption has a smaller limit", () => {
  test("the first part fits the caption limit, the rest the message limit; nothing lost", () => {
    const text = Array.from({ length: 30 }, (_, i) => `Sentence number ${i} is here.`).join(" ");
    const parts = splitWithCaption(text, 400, 100);
    expect(parts[0]!.length).toBeLessThanOrEqual(100);
    for (const p of parts.slice(1)) expect(p.length).toBeLessThanOrEqual(400);
    expect(parts.length).toBe(3);
    expect(squash(parts.join(""))).toBe(squash(text));
    expect(splitWithCaption("short", 400, 100)).toEqual(["short"]);
  });

  test("a caption that had to cut a code block keeps every part within the caption limit", () => {
    const text = "```\n" + Array.from({ length: 30 }, (_, i) => `code line ${i}`).join("\n") + "\n```";
    const parts = splitWithCaption(text, 4096, 128);
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(128);
      expect(fenceLines(p) % 2).toBe(0);
    }
  });
});

describe("splitMessage: properties", () => {
  const word = fc.stringMatching(/^[a-zA-Z0-9,;'()-]{1,12}$/);
  const sentence = fc.array(word, { minLength: 1, maxLength: 30 }).map((ws) => `${ws.join(" ")}.`);
  const para = fc.array(sentence, { minLength: 1, maxLength: 8 }).map((s) => s.join(" "));
  const fenced = fc.array(word, { minLength: 1, maxLength: 10 }).map((ls) => "```\n" + ls.join("\n") + "\n```");
  const doc = fc.array(fc.oneof(para, para, fenced, word.map((w) => w.repeat(30))), { minLength: 1, maxLength: 40 }).chain((blocks) =>
    fc.array(fc.constantFrom("\n\n", "\n", "\n\n\n"), { minLength: blocks.length, maxLength: blocks.length }).map((seps) =>
      blocks.map((b, i) => b + seps[i]).join(""),
    ),
  );

  test("every part within the limit, nothing lost or reordered, fences balanced in every part", () => {
    fc.assert(
      fc.property(doc, fc.integer({ min: 160, max: 2000 }), (text, limit) => {
        const parts = splitMessage(text, limit);
        for (const p of parts) {
          expect(p.length).toBeLessThanOrEqual(limit);
          expect(fenceLines(p) % 2).toBe(0);
        }
        if (text.length > limit) for (const p of parts) expect(p.trim().length).toBeGreaterThan(0);
        expect(squash(parts.join(""))).toBe(squash(text));
      }),
      { numRuns: 300 },
    );
  });
});
