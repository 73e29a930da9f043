import { messageContext, type GroupLine } from "../agent/context.ts";
import { transcribe, type TranscribeOptions } from "../agent/transcribe.ts";
import type { Logger } from "../log.ts";
import type { ChatMessage } from "./handle.ts";
import { REASONS } from "./policy.ts";

/** Groups whose recent lines are remembered at once; the least recently active is forgotten first. */
export const MAX_GROUPS_REMEMBERED = 500;

/** What a message's run is given: its words (a voice note transcribed) and the context block. */
export interface PreparedTurn {
  message: string;
  context: string;
}

export interface TurnContextOptions {
  /** `<provider>.groups.historyLines` in force (0: none kept). */
  historyLines: (provider: ChatMessage["provider"]) => number;
  /** `agent.transcribe` in force (with its key), or undefined. */
  transcribe: () => TranscribeOptions | undefined;
  log: Logger;
}

/**
 * What the agent is told about each message (src/agent/context.ts), fed by the inbound
 * path: the lines of each group since the agent last answered there (memory only,
 * bounded per group and in groups), and voice notes turned into words.
 */
export class TurnContext {
  private readonly lines = new Map<string, GroupLine[]>();
  /** Each chat's last preparation: a voice note being transcribed holds the chat's next message back, so runs keep arrival order. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: TurnContextOptions) {}

  /** A group message that starts no run: kept as a line for the next question there. */
  observe(msg: ChatMessage, reason: string): void {
    // A group the agent does not serve is not remembered.
    if (msg.chatType !== "group" || msg.text.trim() === "" || reason === REASONS.groupNotAllowed) return;
    const max = this.opts.historyLines(msg.provider);
    if (max <= 0) return;
    const key = `${msg.provider}:${msg.chat}`;
    const list = this.lines.get(key) ?? [];
    this.lines.delete(key);
    list.push({ name: msg.senderName ?? msg.senderNames[0] ?? msg.sender, text: msg.text, ts: msg.ts ?? Date.now() });
    if (list.length > max) list.splice(0, list.length - max);
    this.lines.set(key, list);
    if (this.lines.size > MAX_GROUPS_REMEMBERED) this.lines.delete(this.lines.keys().next().value!);
  }

  /** The lines kept for a group, taken: the agent answers now, so the next question starts afresh. */
  private take(msg: ChatMessage): GroupLine[] {
    const key = `${msg.provider}:${msg.chat}`;
    const list = this.lines.get(key) ?? [];
    this.lines.delete(key);
    return list.filter((l) => l.ts <= (msg.ts ?? Infinity));
  }

  /**
   * The words and the context block of a message about to run. A chat's messages are
   * prepared one after another, in the order they came, so a message after a voice note
   * does not overtake it while it is transcribed (an entry per chat only while one is pending).
   */
  prepare(msg: ChatMessage): Promise<PreparedTurn> {
    const key = `${msg.provider}:${msg.chat}`;
    const next = (this.tails.get(key) ?? Promise.resolve()).then(() => this.prepareNow(msg));
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  private async prepareNow(msg: ChatMessage): Promise<PreparedTurn> {
    const groupLines = msg.chatType === "group" ? this.take(msg) : [];
    const context = messageContext({
      provider: msg.provider,
      chatType: msg.chatType ?? "private",
      chat: msg.chat,
      sender: msg.sender,
      senderNames: msg.senderNames,
      ...(msg.chatTitle ? { chatTitle: msg.chatTitle } : {}),
      ...(msg.senderName ? { senderName: msg.senderName } : {}),
      ...(msg.ts ? { ts: msg.ts } : {}),
      ...(msg.quote ? { quote: msg.quote } : {}),
      ...(groupLines.length ? { groupLines } : {}),
    });
    return { message: await this.voiceText(msg), context };
  }

  /** A voice note (audio, no words of its own) as `[voice] <words>` when `agent.transcribe` is set; otherwise the message as it is. */
  private async voiceText(msg: ChatMessage): Promise<string> {
    const audio = msg.media?.find((m) => m.kind === "audio");
    const opts = this.opts.transcribe();
    if (!audio || !opts || msg.text.trim() !== "") return msg.text;
    try {
      const words = await transcribe(opts, audio);
      return words ? `[voice] ${words}` : msg.text;
    } catch (err) {
      this.opts.log.warn("could not transcribe a voice note; the agent gets the placeholder", { provider: msg.provider, chat: msg.chat, error: (err as Error).message });
      return msg.text;
    }
  }
}
