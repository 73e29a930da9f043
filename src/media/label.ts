/** What a chat message's file is, as a person would name it. */
export type MediaLabelKind = "photo" | "voice note" | "audio" | "video" | "video note" | "document";

/** `75` → `1:15`. */
const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;

/**
 * The text an agent gets for a message that holds a file and no words (`[photo]`,
 * `[voice note 0:12]`, `[document report.pdf]`), so a turn is never an empty string.
 * Providers name the file (they know voice from audio, and the duration); the name of a
 * document is cut to 100 characters and stripped of brackets and line breaks.
 */
export function mediaLabel(kind: MediaLabelKind, o: { seconds?: number | null; name?: string | null } = {}): string {
  const name = o.name?.replace(/[\[\]\r\n]+/g, " ").trim().slice(0, 100);
  if ((kind === "voice note" || kind === "audio" || kind === "video note") && o.seconds != null && o.seconds >= 0) return `[${kind} ${clock(o.seconds)}]`;
  if ((kind === "document" || kind === "audio") && name) return `[${kind} ${name}]`;
  return `[${kind}]`;
}

/** The label from a saved file's kind alone (a message kept across a restart by an older version). */
export function labelOfKind(kind: "image" | "audio" | "video" | "document"): string {
  return mediaLabel(kind === "image" ? "photo" : kind);
}
