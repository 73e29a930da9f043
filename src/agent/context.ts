/**
 * What the agent is told about a chat message besides its words: who wrote it, in which
 * chat, when; the message it replies to; in a group, what was said since the agent last
 * answered there. One text, the same for every backend: the openai backend puts it before
 * the user's words (`agent.inboundHeader`), the command backend gets it as `{{context}}`.
 */

/** Longest quoted text passed on; a reply to a long message keeps its start. */
export const QUOTE_MAX_CHARS = 500;
/** Longest single group line passed on. */
export const GROUP_LINE_MAX_CHARS = 500;

/** One line said in a group before the message the agent answers. */
export interface GroupLine {
  name: string;
  text: string;
  ts: number;
}

/** The facts of one inbound message, as the inbound path knows them. */
export interface MessageFacts {
  provider: "telegram" | "whatsapp";
  chatType: "private" | "group";
  chat: string;
  chatTitle?: string;
  /** The sender's id (Telegram user id, WhatsApp phone JID or LID). */
  sender: string;
  senderName?: string;
  senderNames: readonly string[];
  ts?: number;
  quote?: { text: string; author?: string };
  /** Lines written in the group since the agent last answered there, oldest first. */
  groupLines?: readonly GroupLine[];
}

const NETWORK = { telegram: "Telegram", whatsapp: "WhatsApp" } as const;

/** How the sender is named to the agent: their name and, always, an id (a phone number where known). */
export function senderLabel(f: Pick<MessageFacts, "provider" | "sender" | "senderName" | "senderNames">): string {
  const phone = f.senderNames.find((n) => n.startsWith("+"));
  const id = f.provider === "whatsapp" ? (phone ?? f.sender.split("@")[0]!) : f.sender;
  return f.senderName ? `${f.senderName}, id ${id}` : `id ${id}`;
}

const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}…` : s);
const oneLine = (s: string) => s.replace(/\s*\n\s*/g, " ⏎ ");

/** The context block for one message, a few short lines the model can read. */
export function messageContext(f: MessageFacts): string {
  const chat =
    f.chatType === "group" ? `group ${f.chatTitle ? JSON.stringify(f.chatTitle) : f.chat} on ${NETWORK[f.provider]}` : `private chat on ${NETWORK[f.provider]}`;
  const lines = [`[From ${senderLabel(f)} · ${chat} · ${new Date(f.ts || Date.now()).toISOString().replace(/\.\d+Z$/, "Z")}]`];
  if (f.quote) {
    const by = f.quote.author ? ` ${f.quote.author}` : "";
    lines.push(`[Replying to${by}: "${oneLine(clip(f.quote.text, QUOTE_MAX_CHARS))}"]`);
  }
  if (f.groupLines?.length) {
    lines.push(`[Earlier in this group, since your last answer here:]`);
    for (const l of f.groupLines) lines.push(`${l.name}: ${oneLine(clip(l.text, GROUP_LINE_MAX_CHARS))}`);
    lines.push(`[The message to answer:]`);
  }
  return lines.join("\n");
}

/** The user turn as the model reads it: the context block, then the words. */
export function withContext(message: string, context: string | undefined): string {
  return context ? (message ? `${context}\n${message}` : context) : message;
}
