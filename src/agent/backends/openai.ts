import { readFile } from "node:fs/promises";
import type { Logger } from "../../log.ts";
import { THINKING_LEVELS, type InboundMedia } from "../../protocol/index.ts";
import { withContext } from "../context.ts";
import { AgentFailure } from "../failure.ts";
import type { FunctionTool, ToolBox } from "../mcp/hub.ts";
import type { AgentBackend } from "../types.ts";
import { postCompletion } from "./openai-http.ts";
import { readCompletion } from "./openai-stream.ts";
import { ToolLoop, type Message, type Part } from "./tool-loop.ts";

/**
 * The user turn with its files: images as image inputs (data URLs), other files as a
 * short note (kind, type, size) — a chat model cannot take audio or video this way.
 */
async function userContent(message: string, media: readonly InboundMedia[] | undefined): Promise<string | Part[]> {
  if (!media?.length) return message;
  const notes = media.filter((m) => m.kind !== "image").map((m) => `[attached ${m.kind}: ${m.mime}, ${m.bytes} bytes]`);
  const text = [message, ...notes].filter((t) => t !== "").join("\n");
  const parts: Part[] = text ? [{ type: "text", text }] : [];
  for (const m of media.filter((x) => x.kind === "image")) {
    const data = await readFile(m.path);
    parts.push({ type: "image_url", image_url: { url: `data:${m.mime};base64,${data.toString("base64")}` } });
  }
  return parts;
}

export interface OpenAiOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  systemPrompt?: string;
  temperature?: number;
  /** `agent.inboundHeader`: a chat message's context block goes before its words (default on). */
  inboundHeader?: boolean;
  log: Logger;
  /** The MCP tools the model may call (none: a plain chat completion). */
  tools?: ToolBox;
  /** `agent.maxToolRounds`: rounds of tool calls before the run is stopped. */
  maxToolRounds?: number;
}

/** Reading the body failed (a reset, a dropped connection): an outage, retryable. The model's own errors are typed already. */
function streamFailure(err: unknown): AgentFailure {
  if (err instanceof AgentFailure) return err;
  return new AgentFailure({ code: "UNAVAILABLE", message: `the model's stream broke off: ${(err as Error).message ?? String(err)}`, retryable: true });
}

/** `reasoning_effort` for a `thinking` value, or undefined for the model's default (`"off"`, `"default"`, none). */
function reasoningEffort(thinking: string | undefined): string | undefined {
  return thinking !== undefined && (THINKING_LEVELS as readonly string[]).includes(thinking) ? thinking : undefined;
}

/**
 * Any OpenAI-compatible Chat Completions endpoint with streaming: OpenAI, Ollama,
 * llama.cpp server, vLLM, LM Studio. Each delta is an `assistant` event; with a tool box,
 * the model may call tools (each call and result a `tool` event) until it answers.
 */
export function openAiBackend(opts: OpenAiOptions): AgentBackend {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  return {
    name: "openai",
    async run(turn, emit, signal) {
      const messages: Message[] = [];
      if (opts.systemPrompt) messages.push({ role: "system", content: opts.systemPrompt });
      // A past turn's tool calls and results sit between its question and its answer, as the API wants them.
      for (const t of turn.history) {
        messages.push({ role: "user", content: t.user }, ...((t.steps ?? []) as Message[]), { role: "assistant", content: t.assistant });
      }
      const text = opts.inboundHeader === false ? turn.message : withContext(turn.message, turn.context);
      messages.push({ role: "user", content: await userContent(text, turn.media) });
      const effort = reasoningEffort(turn.thinking);
      const headers = {
        "content-type": "application/json",
        accept: "text/event-stream",
        ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
      };
      const request = (tools: FunctionTool[] | undefined) =>
        JSON.stringify({
          model: opts.model,
          messages,
          stream: true,
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
          ...(effort !== undefined ? { reasoning_effort: effort } : {}),
          ...(tools?.length ? { tools } : {}),
        });
      const loop = opts.tools ? new ToolLoop(opts.tools, await opts.tools.offer(signal), emit, signal) : undefined;
      for (let round = 0; ; round++) {
        const deadline = turn.deadline ? { deadline: turn.deadline } : {};
        const body = await postCompletion(url, headers, request(loop?.offered.defs), { signal, log: opts.log, ...deadline });
        const reply = await readCompletion(body, (delta) => emit("assistant", { delta }), opts.log, round).catch((err: unknown) => {
          if (signal.aborted) throw signal.reason;
          throw streamFailure(err);
        });
        if (!loop || reply.toolCalls.length === 0) {
          return {
            summary: reply.text,
            ...(reply.finishReason === "length" ? { truncated: true } : {}),
            ...(loop?.steps.length ? { steps: loop.sessionSteps() } : {}),
          };
        }
        if (round >= (opts.maxToolRounds ?? 8)) {
          throw new AgentFailure({
            code: "UNAVAILABLE",
            message: `the model still asked for tools after ${round} rounds of tool calls (agent.maxToolRounds); the run was stopped`,
            retryable: false,
          });
        }
        messages.push(...(await loop.round(reply)));
      }
    },
  };
}
