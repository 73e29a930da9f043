/** The Chat Completions stream reader and the HTTP retry rules (issue 22 §5, issue 24 §2). */
import { describe, expect, spyOn, test } from "bun:test";
import { retryAfterMs } from "../../src/agent/backends/openai-http.ts";
import { readCompletion, sseData } from "../../src/agent/backends/openai-stream.ts";
import { AgentFailure } from "../../src/agent/failure.ts";
import { silentLogger } from "../../src/log.ts";

/** A body made of these SSE events, cut into awkward chunks (events may span chunks). */
function body(events: unknown[], end = "data: [DONE]\n\n"): ReadableStream<Uint8Array> {
  const text = events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join("") + end;
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(c) {
      for (let i = 0; i < bytes.length; i += 7) c.enqueue(bytes.slice(i, i + 7));
      c.close();
    },
  });
}
const delta = (d: unknown, finish_reason?: string) => ({ choices: [{ index: 0, delta: d, ...(finish_reason ? { finish_reason } : {}) }] });

describe("readCompletion", () => {
  test("calls sent without ids get ids unique across rounds, also two rounds within one millisecond", async () => {
    const events = () => body([delta({ tool_calls: [{ index: 0, function: { name: "s__a", arguments: "{}" } }, { index: 1, function: { name: "s__b", arguments: "{}" } }] }), delta({}, "tool_calls")]);
    const now = spyOn(Date, "now").mockReturnValue(1_765_000_000_000); // both rounds in the same millisecond
    const [r0, r1] = await Promise.all([readCompletion(events(), () => {}, silentLogger, 0), readCompletion(events(), () => {}, silentLogger, 1)]).finally(() => now.mockRestore());
    const ids = [...r0.toolCalls, ...r1.toolCalls].map((c) => c.id);
    expect(ids.every((id) => id.startsWith("call_"))).toBe(true);
    expect(new Set(ids).size).toBe(4);
  });

  test("text deltas go out as they come; tool-call pieces are joined by index", async () => {
    const seen: string[] = [];
    const c = await readCompletion(
      body([
        delta({ content: "Let " }),
        delta({ content: "me." }),
        delta({ tool_calls: [{ index: 0, id: "a", function: { name: "s__get", arguments: "" } }] }),
        delta({ tool_calls: [{ index: 1, id: "b", function: { name: "s__put", arguments: '{"x"' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: '{"k":' } }] }),
        delta({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }),
        delta({ tool_calls: [{ index: 1, function: { arguments: ":2}" } }] }),
        delta({}, "tool_calls"),
      ]),
      (d) => seen.push(d),
      silentLogger,
    );
    expect(seen).toEqual(["Let ", "me."]);
    expect(c).toEqual({
      text: "Let me.",
      finishReason: "tool_calls",
      toolCalls: [
        { id: "a", name: "s__get", arguments: '{"k":1}' },
        { id: "b", name: "s__put", arguments: '{"x":2}' },
      ],
    });
  });

  test("calls sent whole without an index are told apart by their ids", async () => {
    const c = await readCompletion(
      body([
        delta({ tool_calls: [{ id: "a", function: { name: "s__one", arguments: "{}" } }] }),
        delta({ tool_calls: [{ id: "b", function: { name: "s__two", arguments: '{"n":' } }] }),
        delta({ tool_calls: [{ function: { arguments: "2}" } }] }),
      ]),
      () => {},
      silentLogger,
    );
    expect(c.toolCalls).toEqual([
      { id: "a", name: "s__one", arguments: "{}" },
      { id: "b", name: "s__two", arguments: '{"n":2}' },
    ]);
  });

  test("a stream with neither finish_reason nor [DONE] is cut off: a retryable UNAVAILABLE failure", async () => {
    const err = await readCompletion(body([delta({ content: "half a sen" })], ""), () => {}, silentLogger).catch((e) => e);
    expect(err).toBeInstanceOf(AgentFailure);
    expect(err.shape).toMatchObject({ code: "UNAVAILABLE", retryable: true });
    expect(err.message).toContain("cut off");
  });

  test("either terminator alone ends the stream well; finish_reason length is reported", async () => {
    expect((await readCompletion(body([delta({ content: "ok" })]), () => {}, silentLogger)).text).toBe("ok");
    const c = await readCompletion(body([delta({ content: "long" }, "length")], ""), () => {}, silentLogger);
    expect(c.finishReason).toBe("length");
  });

  test("an error event is the model's error; a non-JSON event is skipped", async () => {
    const ok = await readCompletion(body(["not json", delta({ content: "x" })]), () => {}, silentLogger);
    expect(ok.text).toBe("x");
    const err = await readCompletion(body([{ error: { message: "overloaded" } }]), () => {}, silentLogger).catch((e) => e);
    expect(err.message).toBe("model error: overloaded");
    expect(err.shape).toMatchObject({ code: "UNAVAILABLE", retryable: false });
  });
});

describe("retryAfterMs", () => {
  test("seconds, an HTTP date, OpenAI's retry-after-ms, or nothing", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "2" }))).toBe(2_000);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "150", "retry-after": "9" }))).toBe(150);
    const now = Date.parse("2026-12-07T12:00:00Z");
    expect(retryAfterMs(new Headers({ "retry-after": "Mon, 07 Dec 2026 12:00:05 GMT" }), now)).toBe(5_000);
    expect(retryAfterMs(new Headers())).toBeUndefined();
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeUndefined();
  });
});

describe("sseData", () => {
  test("an event that never ends is given up past the bound, with a typed failure (not buffered for ever)", async () => {
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new TextEncoder().encode(`data: ${"x".repeat(1_000)}`));
      },
    });
    const read = async () => {
      for await (const _ of sseData(endless, 50_000));
    };
    const err = await read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentFailure);
    expect((err as AgentFailure).message).toContain("without ending an event");
  });
});
