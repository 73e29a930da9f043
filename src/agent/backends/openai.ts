import { readFile } from "node:fs/promises";
import type { Logger } from "../../log.ts";
import { THINKING_LEVELS, type InboundMedia } from "../../protocol/index.ts";
import { withContext } from "../context.ts";
import type { AgentBackend } from "../types.ts";

type Part = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

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
}

/** Read an SSE body and yield each `data:` payload (events may span chunks). */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + (buf[sep] === "\r" ? 4 : 2));
      const data = block
        .split(/\r?\n/)
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) yield data;
    }
  }
}

/** `reasoning_effort` for a `thinking` value, or undefined for the model's default (`"off"`, `"default"`, none). */
function reasoningEffort(thinking: string | undefined): string | undefined {
  return thinking !== undefined && (THINKING_LEVELS as readonly string[]).includes(thinking) ? thinking : undefined;
}

/**
 * Any OpenAI-compatible Chat Completions endpoint with streaming: OpenAI, Ollama,
 * llama.cpp server, vLLM, LM Studio. Each delta is an `assistant` event.
 */
export function openAiBackend(opts: OpenAiOptions): AgentBackend {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  return {
    name: "openai",
    async run(turn, emit, signal) {
      const messages: { role: string; content: string | Part[] }[] = [];
      if (opts.systemPrompt) messages.push({ role: "system", content: opts.systemPrompt });
      for (const t of turn.history) messages.push({ role: "user", content: t.user }, { role: "assistant", content: t.assistant });
      const text = opts.inboundHeader === false ? turn.message : withContext(turn.message, turn.context);
      messages.push({ role: "user", content: await userContent(text, turn.media) });
      const effort = reasoningEffort(turn.thinking);
      const res = await fetch(url, {
        method: "POST",
        signal,
        headers: {
          "content-type": "application/json",
          accept: "text/event-stream",
          ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: opts.model,
          messages,
          stream: true,
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
          ...(effort !== undefined ? { reasoning_effort: effort } : {}),
        }),
      });
      if (!res.ok || !res.body) {
        const text = (await res.text().catch(() => "")).slice(0, 300);
        throw new Error(`${url} answered HTTP ${res.status}${text ? `: ${text}` : ""}`);
      }
      let summary = "";
      for await (const data of sseData(res.body)) {
        if (data === "[DONE]") break;
        let chunk: { choices?: { delta?: { content?: string | null } }[]; error?: { message?: string } };
        try {
          chunk = JSON.parse(data);
        } catch {
          opts.log.debug("openai: skipped a non-JSON SSE event", { data: data.slice(0, 200) });
          continue;
        }
        if (chunk.error) throw new Error(`model error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`);
        const delta = chunk.choices?.[0]?.delta?.content;
        if (typeof delta === "string" && delta.length > 0) {
          summary += delta;
          emit("assistant", { delta });
        }
      }
      return { summary };
    },
  };
}
