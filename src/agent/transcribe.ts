import { textUpTo } from "../core/body.ts";
import { readFile } from "node:fs/promises";
import type { InboundMedia } from "../protocol/index.ts";

/** `agent.transcribe`: any OpenAI-compatible `/audio/transcriptions` endpoint. */
export interface TranscribeOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
}

/** `agent.transcribe` from the config, with its key read from the environment; undefined when unset. */
export function transcribeOptions(cfg: { baseUrl: string; model: string; apiKeyEnv: string } | undefined, env: Record<string, string | undefined> = process.env): TranscribeOptions | undefined {
  if (!cfg) return undefined;
  const apiKey = env[cfg.apiKeyEnv];
  return { baseUrl: cfg.baseUrl, model: cfg.model, ...(apiKey ? { apiKey } : {}) };
}

/** The longest a transcription may take before the run goes on with the placeholder. */
const TIMEOUT_MS = 60_000;

/**
 * A voice note's words: the saved file posted as multipart (`file`, `model`), the
 * answer's `text`. Throws with the endpoint's status and the start of its answer.
 */
export async function transcribe(opts: TranscribeOptions, media: InboundMedia, signal?: AbortSignal): Promise<string> {
  const url = `${opts.baseUrl.replace(/\/+$/, "")}/audio/transcriptions`;
  const form = new FormData();
  const name = media.path.split(/[\\/]/).pop() || "voice.ogg";
  form.append("file", new Blob([new Uint8Array(await readFile(media.path))], { type: media.mime }), name);
  form.append("model", opts.model);
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? TIMEOUT_MS);
  const res = await fetch(url, {
    method: "POST",
    body: form,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    headers: opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {},
  });
  // A transcript is short; an endpoint that answers without end is cut at 1 MiB.
  const body = await textUpTo(res, 1024 * 1024);
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}: ${body.slice(0, 200)}`);
  let text: unknown;
  try {
    text = (JSON.parse(body) as { text?: unknown }).text;
  } catch {
    text = body;
  }
  if (typeof text !== "string") throw new Error(`${url} answered without a text field`);
  return text.trim();
}
