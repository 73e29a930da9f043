import { sliceChars } from "../../core/bytes.ts";
import type { OfferedTools, ToolBox } from "../mcp/hub.ts";
import { capText, type ToolOutput } from "../mcp/result.ts";
import type { AgentEmit } from "../types.ts";
import type { Completion, ToolCall } from "./openai-stream.ts";

/** A part of a user message: text, or an image as a data URL. */
export type Part = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

/** A Chat Completions message. */
export type Message =
  | { role: "system" | "user"; content: string | Part[] }
  | { role: "assistant"; content: string | null; tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[] }
  | { role: "tool"; tool_call_id: string; content: string };

/** How much of a result the `tool` event carries (the model gets up to `agent.mcp.maxResultChars`). */
const EVENT_RESULT_CHARS = 2_000;
/** Tool results one turn keeps in the session, all together: later turns get them cut to fit. */
const SESSION_RESULT_CHARS = 64 * 1024;

/** Arguments as the model wrote them, parsed; anything but a JSON object is refused. */
function parseArgs(text: string): Record<string, unknown> | string {
  if (text.trim() === "") return {};
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : "the arguments are not a JSON object";
  } catch {
    return "the arguments are not valid JSON";
  }
}

/**
 * The tool side of one run: each round runs the calls the model asked for side by side,
 * streams a `call` event as each starts and a `result` event as each ends (on the run's
 * seq), and answers with the messages that go back to the model. The assistant and tool
 * messages are kept as the run's steps (stored in the session); images go in a user
 * message after the results, for the model only.
 */
export class ToolLoop {
  readonly steps: Message[] = [];

  constructor(
    private readonly tools: ToolBox,
    readonly offered: OfferedTools,
    private readonly emit: AgentEmit,
    private readonly signal: AbortSignal,
  ) {}

  async round(reply: Completion): Promise<Message[]> {
    const asked: Message = {
      role: "assistant",
      content: reply.text || null,
      tool_calls: reply.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })),
    };
    const outputs = await Promise.all(reply.toolCalls.map((c) => this.call(c)));
    const results: Message[] = reply.toolCalls.map((c, i) => ({ role: "tool", tool_call_id: c.id, content: outputs[i]!.text }));
    this.steps.push(asked, ...results);
    const images: Part[] = outputs.flatMap((o, i) =>
      o.images.length === 0
        ? []
        : [
            { type: "text" as const, text: `Images returned by ${reply.toolCalls[i]!.name} (${reply.toolCalls[i]!.id}):` },
            ...o.images.map((img) => ({ type: "image_url" as const, image_url: { url: `data:${img.mime};base64,${img.data}` } })),
          ],
    );
    return [asked, ...results, ...(images.length ? [{ role: "user" as const, content: images }] : [])];
  }

  /**
   * The steps as the session keeps them: every result cut to an equal share of
   * SESSION_RESULT_CHARS, so a turn with big results cannot swell the history of every
   * later request (or the session cache) without bound.
   */
  sessionSteps(): Message[] {
    const results = this.steps.filter((m) => m.role === "tool").length;
    const share = Math.max(500, Math.floor(SESSION_RESULT_CHARS / Math.max(1, results)));
    return this.steps.map((m) => (m.role === "tool" ? { ...m, content: capText(m.content, share) } : m));
  }

  private async call(c: ToolCall): Promise<ToolOutput> {
    const args = parseArgs(c.arguments);
    this.emit("tool", { phase: "call", callId: c.id, name: c.name, args: typeof args === "string" ? c.arguments : args });
    const started = performance.now();
    const out: ToolOutput =
      typeof args === "string"
        ? { ok: false, text: `error: ${args}; call ${c.name} again with a JSON object`, images: [] }
        : await this.tools.call(this.offered, c.name, args, this.signal);
    const ms = Math.round(performance.now() - started);
    this.emit("tool", { phase: "result", callId: c.id, name: c.name, ok: out.ok, result: sliceChars(out.text, EVENT_RESULT_CHARS), ms });
    return out;
  }
}
