import { textUpTo } from "../../core/body.ts";
import { hostOf, networkCause, unreachable } from "../../core/unreachable.ts";
import type { Logger } from "../../log.ts";
import type { ErrorShape } from "../../protocol/index.ts";
import { AgentFailure } from "../failure.ts";

/** Wait before retrying a 5xx or a network failure that gave no advice. */
const DEFAULT_RETRY_MS = 1_000;
/** Advice longer than this is not waited for (the run would rather fail and say when). */
const MAX_RETRY_MS = 60_000;

/** `Retry-After` (seconds or an HTTP date) or OpenAI's `retry-after-ms`, in ms. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get("retry-after-ms"));
  if (headers.has("retry-after-ms") && Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const seconds = Number(value);
  if (value.trim() !== "" && Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The typed error of an HTTP answer that is not a stream: outages and rate limits are retryable. */
async function httpFailure(url: string, res: Response): Promise<ErrorShape> {
  // An error page can be any size: only its start is read (and quoted).
  const text = (await textUpTo(res, 4_096).catch(() => "")).slice(0, 300);
  const message = `${url} answered HTTP ${res.status}${text ? `: ${text}` : ""}`;
  const after = retryAfterMs(res.headers);
  const retryable = res.status === 429 || res.status >= 500;
  return { code: "UNAVAILABLE", message, retryable, ...(retryable && after !== undefined ? { retryAfterMs: after } : {}) };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * POST a streaming Chat Completions request and return its body. A 429, a 5xx or a network
 * failure (all before any token) is tried once more after the advised delay, when that
 * still fits before `deadline`; otherwise it is an AgentFailure with the typed cause.
 */
export async function postCompletion(
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { signal: AbortSignal; deadline?: number; log: Logger },
): Promise<ReadableStream<Uint8Array>> {
  const { signal } = opts;
  for (let attempt = 0; ; attempt++) {
    let failure: ErrorShape;
    try {
      const res = await fetch(url, { method: "POST", signal, headers, body });
      if (res.ok && res.body) return res.body;
      failure = await httpFailure(url, res);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // Named as the network's doing when it was (DNS, refused, TLS), like every other service.
      const net = networkCause(err);
      failure = { code: "UNAVAILABLE", message: net ? unreachable("the agent endpoint", hostOf(url), net) : `${url} could not be reached: ${(err as Error).message}`, retryable: true };
    }
    const wait = failure.retryAfterMs ?? DEFAULT_RETRY_MS;
    const fits = opts.deadline === undefined || Date.now() + wait < opts.deadline;
    if (attempt > 0 || !failure.retryable || wait > MAX_RETRY_MS || !fits) throw new AgentFailure(failure);
    opts.log.info(`openai: ${failure.message.slice(0, 200)}; trying again in ${wait} ms`);
    await sleep(wait, signal);
  }
}
