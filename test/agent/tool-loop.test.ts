/** One round of tool calls (issue 24 §2/§3): side by side, events in order, bad arguments refused, the session's copy bounded. */
import { describe, expect, test } from "bun:test";
import { ToolLoop } from "../../src/agent/backends/tool-loop.ts";
import type { OfferedTools, ToolBox } from "../../src/agent/mcp/hub.ts";

function box(answer: (name: string, args: Record<string, unknown>) => Promise<string>) {
  const calls: string[] = [];
  const tools: ToolBox = {
    offer: async () => ({ defs: [], route: new Map() }),
    call: async (_offered, name, args) => {
      calls.push(name);
      return { ok: true, text: await answer(name, args), images: [] };
    },
  };
  return { tools, calls };
}
const offered: OfferedTools = { defs: [], route: new Map() };

describe("ToolLoop.round", () => {
  test("calls run side by side: both start before either ends; results go back in the model's order", async () => {
    const events: [string, any][] = [];
    const { tools } = box(async (name) => {
      await Bun.sleep(name === "s__slow" ? 40 : 5);
      return `${name} done`;
    });
    const loop = new ToolLoop(tools, offered, (stream, data) => events.push([stream, data]), new AbortController().signal);
    const started = performance.now();
    const msgs = await loop.round({
      text: "",
      toolCalls: [
        { id: "1", name: "s__slow", arguments: "{}" },
        { id: "2", name: "s__fast", arguments: '{"q":1}' },
      ],
    });
    expect(performance.now() - started).toBeLessThan(80);
    expect(events.map(([, d]) => `${d.phase}:${d.name}`)).toEqual(["call:s__slow", "call:s__fast", "result:s__fast", "result:s__slow"]);
    expect(events[1]![1].args).toEqual({ q: 1 });
    expect(msgs.map((m) => m.role)).toEqual(["assistant", "tool", "tool"]);
    expect(msgs.slice(1).map((m: any) => [m.tool_call_id, m.content])).toEqual([
      ["1", "s__slow done"],
      ["2", "s__fast done"],
    ]);
  });

  test("arguments that are not a JSON object are an error result; the tool is not called", async () => {
    const events: any[] = [];
    const { tools, calls } = box(async () => "never");
    const loop = new ToolLoop(tools, offered, (_s, d) => events.push(d), new AbortController().signal);
    const msgs = await loop.round({ text: "", toolCalls: [{ id: "x", name: "s__t", arguments: "{oops" }] });
    expect(calls).toEqual([]);
    expect((msgs[1] as any).content).toContain("not valid JSON");
    expect(events[0]).toMatchObject({ phase: "call", args: "{oops" });
    expect(events[1]).toMatchObject({ phase: "result", ok: false });
  });

  test("the session keeps at most 64 KiB of a turn's results; the model got them whole", async () => {
    const { tools } = box(async () => "y".repeat(50_000));
    const loop = new ToolLoop(tools, offered, () => {}, new AbortController().signal);
    const msgs = await loop.round({ text: "", toolCalls: [1, 2, 3].map((i) => ({ id: String(i), name: "s__big", arguments: "{}" })) });
    expect((msgs[1] as any).content.length).toBe(50_000);
    const kept = loop.sessionSteps().filter((m) => m.role === "tool") as any[];
    expect(kept.every((m) => m.content.length < 23_000 && m.content.includes("[truncated"))).toBe(true);
  });
});
