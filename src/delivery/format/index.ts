import type { ProviderName } from "../../protocol/index.ts";
import { splitMessage } from "../split.ts";
import { blocks, lex, PLAIN, type Markup } from "./markdown.ts";
import { needsHtmlMode, TELEGRAM_HTML, telegramHtmlToPlain } from "./telegram.ts";
import { WHATSAPP } from "./whatsapp.ts";

export { telegramHtmlToPlain } from "./telegram.ts";
export { lex, blocks, inline, loadMarkdown, markdownLoaded, type Markup } from "./markdown.ts";

/** `<provider>.format`: the agent's Markdown rendered for the network, or sent as written. */
export type ChatFormat = "markdown" | "plain";

const MARKUP: Record<ProviderName, Markup> = { telegram: TELEGRAM_HTML, whatsapp: WHATSAPP };

/** The rendered text of one piece of Markdown (no length limit). */
export function renderFor(provider: ProviderName, src: string): string {
  return blocks(lex(src), MARKUP[provider]).trim();
}

interface Unit {
  raw: string;
  out: string;
}

/**
 * The agent's reply rendered for a network and split into messages by the length of what
 * is sent (HTML tags and entities count): whole blocks are packed, a block too long alone
 * is split in its Markdown and each piece rendered on its own, so no part ends inside a
 * tag, an entity or a marker pair. `firstLimit` is a caption's smaller limit.
 */
export function renderReply(provider: ProviderName, src: string, limit: number, firstLimit = limit): string[] {
  const m = MARKUP[provider];
  const units: Unit[] = [];
  for (const t of lex(src)) {
    const out = blocks([t], m).trim();
    if (out === "") continue;
    if (out.length <= limit) units.push({ raw: t.raw, out });
    else units.push(...splitBlock(t.raw, m, limit));
  }
  // The caption: a first block too long for it is split again at the smaller limit.
  if (units[0] && units[0].out.length > firstLimit) units.splice(0, 1, ...splitBlock(units[0].raw, m, firstLimit));
  const parts: string[] = [];
  let cur = "";
  for (const u of units) {
    const max = parts.length === 0 ? firstLimit : limit;
    if (cur !== "" && cur.length + 2 + u.out.length <= max) cur += `\n\n${u.out}`;
    else {
      if (cur !== "") parts.push(cur);
      cur = u.out;
    }
  }
  if (cur !== "") parts.push(cur);
  return parts.length ? parts : [src];
}

/** One block's Markdown cut ever finer until every rendered piece fits; at worst its plain words, cut so escaping cannot overflow. */
function splitBlock(raw: string, m: Markup, limit: number): Unit[] {
  for (let l = limit; l >= 64; l = Math.floor(l * 0.8)) {
    const units = splitMessage(raw.trim(), l)
      .map((p) => ({ raw: p, out: blocks(lex(p), m).trim() }))
      .filter((u) => u.out !== "");
    if (units.every((u) => u.out.length <= limit)) return units;
  }
  const words = blocks(lex(raw), PLAIN);
  return splitMessage(words, Math.max(64, Math.floor(limit / 6))).map((p) => ({ raw: p, out: m.text(p) }));
}

/** How a rendered Telegram part goes out: with `parse_mode` and its plain words for a refusal, or as it is when it holds no markup. */
export function telegramPart(part: string): { parseMode?: "HTML"; plain?: string } {
  return needsHtmlMode(part) ? { parseMode: "HTML", plain: telegramHtmlToPlain(part) } : {};
}
