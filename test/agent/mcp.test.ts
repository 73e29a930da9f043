/** The pieces of the MCP tool box that need no server: tool filters and result shaping (issue 24). */
import { describe, expect, test } from "bun:test";
import { toolFilter } from "../../src/agent/mcp/glob.ts";
import { capText, toolOutput } from "../../src/agent/mcp/result.ts";
import { GatewayCounters } from "../../src/metrics/counters.ts";

describe("allowTools / denyTools", () => {
  test("absent allow means all; deny wins over allow; * and ? are the only wildcards", () => {
    const all = toolFilter(undefined, ["write_*"]);
    expect(all("read_file")).toBe(true);
    expect(all("write_file")).toBe(false);
    const some = toolFilter(["read_*", "list_?"], ["read_secret"]);
    expect(some("read_file")).toBe(true);
    expect(some("read_secret")).toBe(false);
    expect(some("list_a")).toBe(true);
    expect(some("list_ab")).toBe(false);
    expect(toolFilter(["a.b"], [])("axb")).toBe(false);
  });
});

describe("tool results for the model", () => {
  test("text joined, images set aside, other blocks named; isError is not ok", () => {
    const out = toolOutput(
      {
        isError: true,
        content: [
          { type: "text", text: "one" },
          { type: "image", data: "AAAA", mimeType: "image/png" },
          { type: "resource_link", uri: "file:///x" },
        ],
      },
      1_000,
    );
    expect(out).toEqual({ ok: false, text: "one\n[image image/png: attached below]\n[resource link file:///x]", images: [{ mime: "image/png", data: "AAAA" }] });
  });

  test("structured content stands in for missing text; long text is cut with a note", () => {
    expect(toolOutput({ content: [], structuredContent: { n: 1 } }, 100).text).toBe('{"n":1}');
    const cut = capText("x".repeat(150), 100);
    expect(cut.startsWith("x".repeat(100) + "\n[truncated: the result was 150 characters")).toBe(true);
  });
});

describe("tool metrics", () => {
  test("a result event counts by server, tool and outcome and times the call", () => {
    const c = new GatewayCounters();
    const ev = (data: unknown) => c.agentEvent({ runId: "r", seq: 1, stream: "tool", ts: 0, data });
    ev({ phase: "call", callId: "1", name: "fs__read_file", args: {} });
    ev({ phase: "result", callId: "1", name: "fs__read_file", ok: true, result: "", ms: 120 });
    ev({ phase: "result", callId: "2", name: "fs__read_file", ok: false, result: "", ms: 3 });
    expect([...c.toolCalls]).toEqual([
      ["fs\u0000read_file\u0000true", 1],
      ["fs\u0000read_file\u0000false", 1],
    ]);
    expect(c.toolDuration.get("fs\u0000read_file")!.count).toBe(2);
  });

  test("past the series cap a new tool is counted under other/other with its outcome (three parts, as every key)", () => {
    const c = new GatewayCounters();
    const ev = (data: unknown) => c.agentEvent({ runId: "r", seq: 1, stream: "tool", ts: 0, data });
    for (let i = 0; i < 300; i++) ev({ phase: "result", callId: String(i), name: `s__t${i}`, ok: true, result: "", ms: 1 });
    ev({ phase: "result", callId: "x", name: "s__late", ok: false, result: "", ms: 1 });
    for (const key of c.toolCalls.keys()) expect(key.split("\u0000")).toHaveLength(3);
    expect(c.toolCalls.get("other\u0000other\u0000false")).toBe(1);
    expect(c.toolCalls.size).toBeLessThanOrEqual(258);
  });
});
