import type { InboundMedia } from "../protocol/index.ts";
import type { Turn } from "./sessions.ts";

/** What a backend receives for one turn. */
export interface AgentTurn {
  runId: string;
  message: string;
  sessionId: string;
  to?: string;
  /** The `agent` request's `thinking` (e.g. "low", "default"), if it sent one. */
  thinking?: string;
  /** Files that came with the chat message: `{kind, mime, bytes, path}` (saved under `<state>/media/inbound/`). */
  media?: InboundMedia[];
  /** Who wrote, in which chat, when, what they replied to, earlier group lines (src/agent/context.ts); chat messages only. */
  context?: string;
  /** Earlier turns of this session, oldest first (bounded by `agent.historyTurns`). */
  history: Turn[];
  /** The conversation: its id (changes with `/new`) and whether this is its first turn. */
  session?: { id: string; isNew: boolean };
  /** When the run's deadline passes (ms since epoch): a retry that would not fit is not tried. */
  deadline?: number;
}

/** One tool call of a run, as the ledger records it (`args`/`result` only with `ledger.storeText`). */
export interface ToolUse {
  name: string;
  ok: boolean;
  ms: number;
  args?: unknown;
  result?: string;
}

/** What a run produced. */
export interface AgentResult {
  /** The reply. */
  summary: string;
  /** The model stopped at its length limit (`finish_reason: "length"`): the reply is whole but cut. */
  truncated?: boolean;
  /** Messages between the user's and the reply (tool calls and their results), kept in the session. */
  steps?: Record<string, unknown>[];
}

/** Emit one streamed event of the run (`stream` is e.g. "assistant", "tool", "json"). */
export type AgentEmit = (stream: string, data: unknown) => void;

/** One way of producing an assistant reply. */
export interface AgentBackend {
  readonly name: string;
  /** Produce the reply, streaming as it goes; stop promptly when `signal` aborts. */
  run(turn: AgentTurn, emit: AgentEmit, signal: AbortSignal): Promise<AgentResult>;
}
