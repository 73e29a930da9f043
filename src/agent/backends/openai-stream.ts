import type { Logger } from "../../log.ts";
import { AgentFailure } from "../failure.ts";

/** One SSE event may be this long at most: an endpoint that never ends an event is not buffered for ever. */
export const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/** Read an SSE body and yield each `data:` payload (events may span chunks). */
export async function* sseData(body: ReadableStream<Uint8Array>, maxEventChars = MAX_EVENT_CHARS): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    if (buf.length > maxEventChars && buf.search(/\r?\n\r?\n/) < 0) {
      throw new AgentFailure({ code: "UNAVAILABLE", message: `the model's stream sent over ${maxEventChars} characters without ending an event; gave up on it`, retryable: false });
    }
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

/** A tool call the model asked for, assembled from its streamed pieces. */
export interface ToolCall {
  id: string;
  name: string;
  /** The JSON text of the arguments, as the model wrote it. */
  arguments: string;
}

/** One streamed completion, read to its end. */
export interface Completion {
  text: string;
  toolCalls: ToolCall[];
  /** `stop`, `length`, `tool_calls`, … (absent if the server sent none but did send `[DONE]`). */
  finishReason?: string;
}

interface Chunk {
  choices?: {
    delta?: {
      content?: string | null;
      tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
    };
    finish_reason?: string | null;
  }[];
  error?: { message?: string };
}

/** Tool calls of one response past this are not run (a model looping on calls is bounded elsewhere too). */
const MAX_CALLS = 32;
/** Arguments of one call past this many characters are refused as a whole by the loop. */
const MAX_ARGS_CHARS = 1024 * 1024;

/**
 * Read a Chat Completions stream: text deltas go to `onDelta` as they come, tool-call
 * pieces are joined by their `index`. A stream that ends with neither a `finish_reason` nor
 * `[DONE]` was cut off: that is a failure, not a reply (the deltas already sent stay sent).
 */
export async function readCompletion(body: ReadableStream<Uint8Array>, onDelta: (delta: string) => void, log: Logger, round = 0): Promise<Completion> {
  let text = "";
  const calls: ToolCall[] = [];
  let finishReason: string | undefined;
  let done = false;
  for await (const data of sseData(body)) {
    if (data === "[DONE]") {
      done = true;
      break;
    }
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data);
    } catch {
      log.debug("openai: skipped a non-JSON SSE event", { data: data.slice(0, 200) });
      continue;
    }
    if (chunk.error) {
      throw new AgentFailure({ code: "UNAVAILABLE", message: `model error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`, retryable: false });
    }
    const choice = chunk.choices?.[0];
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    const delta = choice?.delta;
    if (typeof delta?.content === "string" && delta.content.length > 0) {
      text += delta.content;
      onDelta(delta.content);
    }
    for (const piece of delta?.tool_calls ?? []) {
      // Without an index (some servers send each call whole): a new id is a new call, else the last one goes on.
      const last = calls.length - 1;
      const i = piece.index ?? (piece.id && piece.id !== calls[last]?.id ? calls.length : Math.max(0, last));
      if (i < 0 || i >= MAX_CALLS) continue;
      const call = (calls[i] ??= { id: "", name: "", arguments: "" });
      if (piece.id) call.id = piece.id;
      if (piece.function?.name) call.name += piece.function.name;
      if (piece.function?.arguments && call.arguments.length < MAX_ARGS_CHARS) call.arguments += piece.function.arguments;
    }
  }
  if (!done && finishReason === undefined) {
    throw new AgentFailure({
      code: "UNAVAILABLE",
      message: `the model's reply was cut off: the stream ended without a finish_reason or [DONE] (${text.length} characters received)`,
      retryable: true,
    });
  }
  // Sparse indexes (a server that skipped one) leave holes: drop them.
  const toolCalls = calls.filter((c): c is ToolCall => c !== undefined && c.name !== "");
  // An endpoint that sends no ids: ones unique across runs (the time) and across a run's rounds,
  // also two rounds within one millisecond of a fast local server (the round's number).
  const stamp = `${Date.now().toString(36)}_${round}`;
  toolCalls.forEach((c, i) => (c.id ||= `call_${stamp}_${i}`));
  return { text, toolCalls, ...(finishReason !== undefined ? { finishReason } : {}) };
}
