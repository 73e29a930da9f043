import type { ProviderName } from "../protocol/index.ts";
import type { ChatMessage, InboundDeps } from "./handle.ts";
import { NEW_REASON, STOPPED_REASON, type PendingTurns } from "./pending-turns.ts";
import { chatSessionId } from "./policy.ts";

/** The chat commands the gateway answers itself (never the agent). */
export type CommandName = "new" | "stop" | "status" | "help";

const NAMES: Record<string, CommandName> = { new: "new", reset: "new", stop: "stop", status: "status", help: "help" };

/**
 * The command a message is, or null: `/new` (alias `/reset`), `/stop`, `/status`,
 * `/help`, in any case, with Telegram's `@botname` suffix or without; anything after
 * the command is ignored. `/tmp/x` or `/newer` are not commands. With `botName` known
 * (Telegram's username), `/stop@otherbot` is said to another bot: plain text.
 */
export function parseCommand(text: string, botName?: string): CommandName | null {
  const m = /^\s*\/([a-z]+)(?:@([a-z0-9_]{1,64}))?(?=\s|$)/i.exec(text);
  if (!m) return null;
  if (m[2] !== undefined && botName && m[2].toLowerCase() !== botName.replace(/^@/, "").toLowerCase()) return null;
  return NAMES[m[1]!.toLowerCase()] ?? null;
}

/** The record reason of a command written before the gateway came back (older than `inbound.lateAfterMs`). */
export const LATE_COMMAND = "late command, not carried out";

/** What `/status` reports: the backend, the conversation, the queue, the link. */
export interface StatusFacts {
  backend: string;
  model?: string;
  turns: number;
  running: number;
  queued: number;
  /** The provider the chat is on and its link state (absent in WebChat). */
  link?: { provider: ProviderName; state: string };
}

/** What the commands act on (the gateway's agent runner and providers). */
export interface CommandDeps {
  /**
   * `/new`: start the session over under a new id; resolves with the turns the old one had
   * and how many runs queued behind the one in progress it dropped (they were written before it).
   */
  newSession(sessionId: string): Promise<{ endedTurns: number; dropped?: number }>;
  /** `/stop`: abort the session's run in progress, drop its queued ones. */
  stopSession(sessionId: string): { running: number; queued: number };
  status(sessionId: string, provider?: ProviderName): Promise<StatusFacts>;
  /** The bot's own name on a provider (Telegram's username), when known: `/cmd@<other>` is then plain text. */
  botName?(provider: ProviderName): string | undefined;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const HELP_TEXT = [
  "Commands:",
  "/new — start a new conversation (alias /reset)",
  "/stop — stop the reply in progress and drop queued messages",
  "/status — backend, conversation and queue",
  "/help — this list",
].join("\n");

/**
 * Carry out a command for a session; the reply to send back. `pending`: the chat messages
 * taken in and not yet handed to the runner (collected, downloading, waiting their turn):
 * `/stop` and `/new` drop them, `/status` counts them as queued.
 */
export async function runCommand(name: CommandName, sessionId: string, deps: CommandDeps, provider?: ProviderName, pending?: PendingTurns): Promise<string> {
  switch (name) {
    case "new": {
      // Written before /new, not answered yet: dropped, so nothing of the old conversation leaks into the new one.
      const waiting = pending?.drop(sessionId, NEW_REASON) ?? 0;
      const { endedTurns, dropped: queued = 0 } = await deps.newSession(sessionId);
      const dropped = waiting + queued;
      const kept = endedTurns > 0 ? ` (the last one, ${plural(endedTurns, "turn")}, is kept on disk)` : "";
      return `New conversation started${kept}.${dropped ? ` Dropped ${plural(dropped, "message")} not answered yet.` : ""}`;
    }
    case "stop": {
      const runs = deps.stopSession(sessionId);
      const running = runs.running;
      const queued = runs.queued + (pending?.drop(sessionId, STOPPED_REASON) ?? 0);
      if (running + queued === 0) return "Nothing was running.";
      const parts = [...(running ? ["the reply in progress"] : []), ...(queued ? [plural(queued, "queued message")] : [])];
      return `Stopped ${parts.join(" and ")}.`;
    }
    case "status": {
      const facts = await deps.status(sessionId, provider);
      const s = { ...facts, queued: facts.queued + (pending?.count(sessionId) ?? 0) };
      return [
        `Backend: ${s.backend}${s.model ? ` (${s.model})` : ""}`,
        `Conversation: ${plural(s.turns, "turn")}`,
        `Runs: ${s.running} running, ${s.queued} queued`,
        ...(s.link ? [`${s.link.provider}: ${s.link.state}`] : []),
      ].join("\n");
    }
    case "help":
      return HELP_TEXT;
  }
}

/**
 * A chat message that is a command, to its end: ledgered with `command`, carried out,
 * answered in the chat (`replied`), or `failed` with the reason when it could not be.
 */
export async function answerCommand(deps: InboundDeps, commands: CommandDeps, msg: ChatMessage, name: CommandName, recorded?: () => void): Promise<void> {
  const base = { direction: "inbound" as const, provider: msg.provider, chat: msg.chat, providerMessageId: msg.messageId, command: name };
  if (msg.extras?.writtenAt !== undefined) {
    // Written while the gateway was away: a `/new` or `/stop` from hours ago must not act on today's chat.
    await deps.ledger.create({ ...base, status: "skipped", reason: LATE_COMMAND }, msg.text);
    recorded?.();
    deps.log.info("ignored a late chat command", { provider: msg.provider, chat: msg.chat, command: name });
    return;
  }
  const rec = await deps.ledger.create({ ...base, status: "received" }, msg.text);
  recorded?.();
  try {
    const message = await runCommand(name, chatSessionId(msg), commands, msg.provider, deps.flow?.pending);
    await deps.send({ to: msg.chat, message, provider: msg.provider, idempotencyKey: `command:${msg.provider}:${msg.messageId}` });
    await deps.ledger.update(rec.id, { status: "replied" });
    deps.log.info("answered a chat command", { provider: msg.provider, chat: msg.chat, command: name });
  } catch (err) {
    const reason = `command /${name} failed: ${(err as Error).message}`;
    await deps.ledger.update(rec.id, { status: "failed", reason }).catch(() => {});
    deps.log.warn("chat command failed", { provider: msg.provider, chat: msg.chat, command: name, error: (err as Error).message });
  }
}
