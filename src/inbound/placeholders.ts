/**
 * Every kind of message leaves a trace (issue 21 §6): content without text or a file is
 * handed to the agent as a short placeholder, the way a person reading the chat would
 * see it, and its kind goes to the ledger.
 */
import type { MessageExtras, OversizedFile, Placeholder } from "../providers/types.ts";

/** The reply a view-once message gets (linked devices never receive its media). */
export const VIEW_ONCE_NOTICE = "I can't open view-once media — please send it normally.";
/** The ledger reason of a view-once message, exactly. */
export const VIEW_ONCE = "view-once";

const quoted = (s: string) => `"${s.replace(/"/g, "'")}"`;

/** `[location 48.8606,2.3376 "Louvre Museum"]`, `[contact: Ada Lovelace +44 20 7946 0000]`, `[sticker 😀]`, `[poll: q — a / b]`. */
export function placeholderText(p: Placeholder): string {
  switch (p.kind) {
    case "location": {
      const where = [p.name, p.address].filter((s): s is string => !!s).map(quoted).join(" ");
      const coords = `${round(p.lat)},${round(p.lon)}`;
      return `[${p.live ? "live location" : "location"} ${coords}${where ? ` ${where}` : ""}]`;
    }
    case "contact":
      return `[contact: ${p.contacts.map((c) => [c.name, c.phone].filter(Boolean).join(" ")).join("; ")}]`;
    case "sticker":
      return p.emoji ? `[sticker ${p.emoji}]` : "[sticker]";
    case "poll":
      return `[poll: ${p.question} — ${p.options.join(" / ")}]`;
  }
}

/** Coordinates as given, at most 6 decimals (about 10 cm). */
const round = (n: number) => String(Math.round(n * 1e6) / 1e6);

/** `48.0 MiB` */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/** `[document report.pdf, 48.0 MiB: not downloaded, over the limit]` */
export function oversizedText(o: OversizedFile): string {
  const what = [o.kind, o.name].filter(Boolean).join(" ");
  return `[${what}${o.bytes !== undefined ? `, ${sizeText(o.bytes)}` : ""}: not downloaded, over the limit]`;
}

/** The text the agent gets: the words, and the placeholder of what has none (after them). */
export function withPlaceholder(text: string, extras: MessageExtras | undefined): string {
  const p = extras?.placeholder ? placeholderText(extras.placeholder) : "";
  return [text, p].filter((s) => s.trim() !== "").join("\n");
}
