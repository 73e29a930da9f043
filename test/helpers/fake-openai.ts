/**
 * A local OpenAI-compatible Chat Completions server that streams SSE. The model name
 * picks the behaviour: "good" streams the reply word by word, "slow" streams one word
 * then hangs, "fail" answers HTTP 500. Every request body is recorded. `GET /v1/models`
 * answers 200 for `Bearer <apiKey>` (when `apiKey` is given) and 401 for anything else.
 *
 * `reply` may return a string (the reply, streamed then `[DONE]`) or a `FakeTurn` that asks
 * for tools, ends another way, or answers an HTTP error instead of a stream.
 */
export interface FakeTurn {
  text?: string;
  /** Tool calls, each streamed in pieces (id and name, then the arguments in two halves). */
  toolCalls?: { id?: string; name: string; args: unknown }[];
  /** Sent on the last chunk; default "tool_calls" when there are tool calls, else none. */
  finishReason?: string;
  /** Stop after the content: no finish_reason, no `[DONE]` (a stream cut short). */
  cut?: boolean;
  /** Break the connection after the content (the body errors on the client's side). */
  reset?: boolean;
  /** Answer this HTTP status instead of a stream (e.g. 429), with an optional Retry-After. */
  status?: number;
  retryAfter?: string;
}
export interface FakeOpenAi {
  url: string;
  requests: { body: any; authorization: string | null }[];
  /** Requests whose client went away before the stream ended. */
  aborted: number;
  stop(): void;
}

export function startFakeOpenAi(
  reply: (messages: any[], body: any) => string | FakeTurn = (messages) => `echo: ${messages.at(-1)?.content} (${messages.length} messages)`,
  opts: { apiKey?: string } = {},
): FakeOpenAi {
  const state: FakeOpenAi = { url: "", requests: [], aborted: 0, stop: () => server.stop(true) };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (new URL(req.url).pathname === "/v1/models" && opts.apiKey !== undefined) {
        return req.headers.get("authorization") === `Bearer ${opts.apiKey}`
          ? Response.json({ object: "list", data: [{ id: "good", object: "model" }] })
          : Response.json({ error: { message: "Incorrect API key provided" } }, { status: 401 });
      }
      if (new URL(req.url).pathname !== "/v1/chat/completions") return new Response("not found", { status: 404 });
      const body = await req.json();
      state.requests.push({ body, authorization: req.headers.get("authorization") });
      if (body.model === "fail") return new Response('{"error":{"message":"the model fell over"}}', { status: 500 });
      const given = reply(body.messages, body);
      const turn: FakeTurn = typeof given === "string" ? { text: given } : given;
      if (turn.status !== undefined) {
        const headers: Record<string, string> = turn.retryAfter !== undefined ? { "retry-after": turn.retryAfter } : {};
        return Response.json({ error: { message: `fake status ${turn.status}` } }, { status: turn.status, headers });
      }
      const words = (turn.text ?? "").split(/(?<= )/).filter((w) => w !== "");
      const enc = new TextEncoder();
      const event = (delta: unknown, finish?: string) =>
        enc.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta, ...(finish ? { finish_reason: finish } : {}) }] })}\n\n`);
      const chunk = (content: string) => event({ content });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          if (body.model === "slow") {
            controller.enqueue(chunk(words[0]!));
            // Hang until the client gives up; the timer hangs off the stream, not the request.
            timer = setTimeout(() => controller.close(), 60_000);
            return;
          }
          controller.enqueue(enc.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: "assistant" } }] })}\n\n`));
          for (const w of words) {
            controller.enqueue(chunk(w));
            await Bun.sleep(2);
          }
          (turn.toolCalls ?? []).forEach((call, index) => {
            const args = JSON.stringify(call.args);
            const half = Math.floor(args.length / 2);
            const id = call.id ?? `call_${state.requests.length}_${index}`;
            controller.enqueue(event({ tool_calls: [{ index, id, type: "function", function: { name: call.name, arguments: "" } }] }));
            controller.enqueue(event({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] }));
            controller.enqueue(event({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }));
          });
          if (turn.cut) {
            controller.close();
            return;
          }
          if (turn.reset) {
            await Bun.sleep(5);
            controller.error(new Error("connection reset by the fake"));
            return;
          }
          const finish = turn.finishReason ?? (turn.toolCalls?.length ? "tool_calls" : undefined);
          if (finish) controller.enqueue(event({}, finish));
          controller.enqueue(enc.encode("data: [DONE]\n\n"));
          controller.close();
        },
        cancel() {
          state.aborted += 1;
          clearTimeout(timer);
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    },
  });
  state.url = `http://127.0.0.1:${server.port}/v1`;
  return state;
}
