/**
 * A local OpenAI-compatible Chat Completions server that streams SSE. The model name
 * picks the behaviour: "good" streams the reply word by word, "slow" streams one word
 * then hangs, "fail" answers HTTP 500. Every request body is recorded. `GET /v1/models`
 * answers 200 for `Bearer <apiKey>` (when `apiKey` is given) and 401 for anything else.
 */
export interface FakeOpenAi {
  url: string;
  requests: { body: any; authorization: string | null }[];
  /** Requests whose client went away before the stream ended. */
  aborted: number;
  stop(): void;
}

export function startFakeOpenAi(
  reply = (messages: any[]) => `echo: ${messages.at(-1)?.content} (${messages.length} messages)`,
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
      const words = reply(body.messages).split(/(?<= )/);
      const enc = new TextEncoder();
      const chunk = (content: string) =>
        enc.encode(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`);
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
