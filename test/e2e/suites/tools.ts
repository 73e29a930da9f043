/**
 * The agent's tools (issue 24) end to end: a gateway on the target, the official MCP test
 * server over stdio, and the fake OpenAI-compatible server asking for tools the way a model
 * does (streamed tool_calls). Its helpers serve the model-stream suite too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../../helpers/client.ts";
import { startFakeOpenAi, type FakeOpenAi, type FakeTurn } from "../../helpers/fake-openai.ts";
import { NODE, ROOT, spawnGateway, type RunningGateway } from "../../helpers/gateway.ts";
import { until } from "../../helpers/until.ts";
import type { Target } from "./runtime.ts";

export const EVERYTHING = join(ROOT, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");
/** A server whose slow tool says on stderr when a call is cancelled. */
const SLOW = join(ROOT, "test", "fixtures", "mcp", "slow.mjs");

/** Send an agent request; the ack, the final res and this run's events in arrival order. */
export async function run(c: TestClient, params: Record<string, unknown>, timeoutMs = 20_000) {
  const id = `t-${crypto.randomUUID()}`;
  const from = c.frames.length;
  c.send({ type: "req", id, method: "agent", params: { idempotencyKey: crypto.randomUUID(), ...params } });
  const ack = await c.next((f) => f.type === "res" && f.id === id, timeoutMs, from);
  if (!ack.ok) return { ack, final: ack, events: [] as any[] };
  const final = await c.next((f) => f.type === "res" && f.id === id && f !== ack, timeoutMs, from);
  const events = c.frames.filter((f) => f.event === "agent" && f.payload.runId === ack.payload.runId).map((f) => f.payload);
  return { ack, final, events };
}

/** The run's message: the last user message before any tool turns of this request. */
export const lastUser = (messages: any[]) => [...messages].reverse().find((m) => m.role === "user" && typeof m.content === "string")?.content as string;
/** Tool results of the current run (after its user message). */
function toolResults(messages: any[]): any[] {
  const at = messages.map((m) => m.role === "user" && typeof m.content === "string").lastIndexOf(true);
  return messages.slice(at + 1).filter((m) => m.role === "tool");
}

const SCRIPTED = ["add 2 and 3", "two sums", "slow tool", "slow past the deadline", "tiny image", "cut me off", "too long", "keep calling", "grow a tool", "reset me"];

/** What the fake model does for each test message: ask for tools first, then answer from their results. */
export function model(messages: any[]): string | FakeTurn {
  const user = lastUser(messages);
  const results = toolResults(messages);
  const answer = () => `results: ${results.map((r) => r.content).join(" | ")}`;
  // Matched inside the content: a chat's run may carry a context header before the words.
  switch (SCRIPTED.find((k) => user.includes(k)) ?? user) {
    case "add 2 and 3":
      return results.length ? answer() : { text: "Let me add. ", toolCalls: [{ name: "everything__get-sum", args: { a: 2, b: 3 } }] };
    case "two sums":
      return results.length
        ? answer()
        : { toolCalls: [{ name: "everything__get-sum", args: { a: 1, b: 2 } }, { name: "everything__get-sum", args: { a: 10, b: 20 } }] };
    case "slow tool":
      return results.length ? answer() : { toolCalls: [{ name: "slow__wait", args: { ms: 4_000 } }] };
    case "slow past the deadline":
      return results.length ? answer() : { toolCalls: [{ name: "slow__wait", args: { ms: 5_000 } }] };
    case "grow a tool":
      return results.length ? answer() : { toolCalls: [{ name: "slow__grow", args: {} }] };
    case "keep calling":
      return { toolCalls: [{ name: "everything__get-sum", args: { a: results.length, b: 1 } }] };
    case "tiny image":
      return results.length ? answer() : { toolCalls: [{ name: "everything__get-tiny-image", args: {} }] };
    case "cut me off":
      return { text: "I was about to say something important", cut: true };
    case "reset me":
      return { text: "half of it", reset: true };
    case "too long":
      return { text: "a reply that hit the length limit", finishReason: "length" };
    default:
      return `plain: ${user}`;
  }
}

export function toolsSuite(target: Target): void {
  describe(`agent tools over MCP (${target})`, () => {
    let fake: FakeOpenAi;
    let gw: RunningGateway;
    let c: TestClient;
    beforeAll(async () => {
      fake = startFakeOpenAi(model);
      gw = await spawnGateway({
        target,
        config: {
          gateway: { logLevel: "debug" },
          agent: {
            backend: "openai",
            openai: { baseUrl: fake.url, model: "good" },
            maxToolRounds: 3,
            mcp: {
              callTimeoutMs: 1_500,
              startTimeoutMs: 4_000,
              servers: {
                everything: { command: [NODE, EVERYTHING, "stdio"], denyTools: ["get-env", "toggle-*"] },
                slow: { command: [NODE, SLOW] },
                // Prints garbage and exits: the gateway stays up and says so.
                broken: { command: [NODE, "-e", "process.stdout.write('not json\\n'); setTimeout(() => process.exit(3), 50)"] },
                // Reads initialize and never answers (and ends with its stdin, so no test leaves it behind).
                hang: { command: [NODE, "-e", "process.stdin.resume(); process.stdin.on('end', () => process.exit(0))"] },
              },
            },
          },
        },
      });
      ({ c } = await TestClient.connect(gw.url));
      await until(async () => {
        const mcp = (await c.request("health")).payload.agent.mcp;
        return mcp?.everything?.state === "ready" && mcp?.slow?.state === "ready";
      }, "everything and slow ready", 20_000);
    });
    const log = () => readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8");
    afterAll(async () => {
      c?.close();
      await gw?.stop();
      fake?.stop();
    });

    test("a run calls the adding tool: the sum goes back to the model, call and result stream in order", async () => {
      const before = fake.requests.length;
      const { final, events } = await run(c, { message: "add 2 and 3", sessionId: "tools-a" });
      expect(final.payload.status).toBe("ok");
      expect(final.payload.summary).toBe("results: The sum of 2 and 3 is 5.");
      const [first, second] = fake.requests.slice(before);
      const offered = first!.body.tools.map((t: any) => t.function.name);
      expect(offered).toContain("everything__get-sum");
      // The second request carries the model's call and the tool's answer.
      const msgs = second!.body.messages;
      const asked = msgs.find((m: any) => m.role === "assistant" && m.tool_calls);
      expect(asked.tool_calls[0].function).toEqual({ name: "everything__get-sum", arguments: '{"a":2,"b":3}' });
      expect(msgs.at(-1)).toEqual({ role: "tool", tool_call_id: asked.tool_calls[0].id, content: "The sum of 2 and 3 is 5." });
      // Events: seq 1, 2, 3… and call → result → the answer's deltas.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const kinds = events.map((e) => (e.stream === "tool" ? `tool:${e.data.phase}` : e.stream));
      const call = kinds.indexOf("tool:call");
      const result = kinds.indexOf("tool:result");
      expect(call).toBeGreaterThan(0);
      expect(result).toBeGreaterThan(call);
      expect(kinds.slice(result + 1)).toContain("assistant");
      const callEv = events[call]!.data;
      const resultEv = events[result]!.data;
      expect(callEv).toEqual({ phase: "call", callId: asked.tool_calls[0].id, name: "everything__get-sum", args: { a: 2, b: 3 } });
      expect(resultEv).toMatchObject({ phase: "result", callId: callEv.callId, name: "everything__get-sum", ok: true, result: "The sum of 2 and 3 is 5." });
      expect(typeof resultEv.ms).toBe("number");
    });

    test("the next turn's request carries the earlier tool turns, valid for the API", async () => {
      const before = fake.requests.length;
      await run(c, { message: "and now?", sessionId: "tools-a" });
      const msgs = fake.requests[before]!.body.messages.map((m: any) => m.role + (m.tool_calls ? "+calls" : ""));
      expect(msgs).toEqual(["user", "assistant+calls", "tool", "assistant", "user"]);
      expect(fake.requests[before]!.body.messages[3].content).toBe("results: The sum of 2 and 3 is 5.");
    });

    test("two calls in one round both run", async () => {
      const { final, events } = await run(c, { message: "two sums" });
      expect(final.payload.summary).toBe("results: The sum of 1 and 2 is 3. | The sum of 10 and 20 is 30.");
      const tool = events.filter((e) => e.stream === "tool").map((e) => e.data.phase);
      expect(tool.filter((p) => p === "call").length).toBe(2);
      expect(tool.filter((p) => p === "result").length).toBe(2);
    });

    test("a tool slower than callTimeoutMs gives the model an error result; the run still answers", async () => {
      const { final, events } = await run(c, { message: "slow tool" });
      expect(final.payload.status).toBe("ok");
      expect(final.payload.summary).toContain("did not answer within 1500 ms");
      const result = events.find((e) => e.stream === "tool" && e.data.phase === "result")!.data;
      expect(result.ok).toBe(false);
      expect(result.ms).toBeGreaterThanOrEqual(1_400);
      // The server heard the cancellation (MCP notifications/cancelled), not just silence.
      await until(() => log().includes("mcp slow stderr: cancelled wait 4000"), "the slow server's cancellation line");
    });

    test("a deadline that passes during a call ends the run AGENT_TIMEOUT", async () => {
      const started = Date.now();
      const { final } = await run(c, { message: "slow past the deadline", timeout: 0.8 });
      expect(final.ok).toBe(false);
      expect(final.error.code).toBe("AGENT_TIMEOUT");
      expect(Date.now() - started).toBeLessThan(2_500);
      // The call in flight was cancelled at the server too — by the deadline (0.8 s), not by the
      // call's own timeout (1.5 s after it started), which would come later.
      await until(() => log().includes("mcp slow stderr: cancelled wait 5000"), "the slow server's cancellation line", 3_000, 10);
      expect(Date.now() - started).toBeLessThan(1_450);
    });

    test("a model that keeps asking for tools is stopped after agent.maxToolRounds with a clear error", async () => {
      const before = fake.requests.length;
      const { final, events } = await run(c, { message: "keep calling" });
      expect(final.payload.status).toBe("error");
      expect(final.payload.summary).toContain("agent.maxToolRounds");
      expect(final.payload.error).toMatchObject({ code: "UNAVAILABLE", retryable: false });
      // Three rounds of calls ran; the fourth request's call was not.
      expect(fake.requests.length - before).toBe(4);
      expect(events.filter((e) => e.stream === "tool" && e.data.phase === "result").length).toBe(3);
    });

    test("denyTools hides a tool from the model; a tool's image goes back as an image", async () => {
      const before = fake.requests.length;
      const { final } = await run(c, { message: "tiny image" });
      expect(final.payload.status).toBe("ok");
      const names = fake.requests[before]!.body.tools.map((t: any) => t.function.name);
      expect(names).not.toContain("everything__get-env");
      expect(names.filter((n: string) => n.startsWith("everything__toggle-"))).toEqual([]);
      expect(names.filter((n: string) => n.startsWith("broken__"))).toEqual([]);
      const last = fake.requests[before + 1]!.body.messages.at(-1);
      expect(last.role).toBe("user");
      expect(last.content[1].image_url.url).toStartWith("data:image/png;base64,");
    });

    test("a server that prints garbage and exits, or hangs at start, keeps the gateway up and shows in health", async () => {
      const health = await until(async () => {
        const h = (await c.request("health")).payload;
        return h.agent.mcp.broken.lastError && h.agent.mcp.hang.lastError ? h : null;
      }, "the broken and the hanging server's errors in health");
      expect(health.agent.mcp.broken.state).not.toBe("ready");
      expect(health.agent.mcp.broken.lastError).toContain("could not start");
      expect(health.agent.mcp.hang.state).not.toBe("ready");
      expect(health.agent.mcp.hang.lastError).toContain("timed out");
      expect(health.agent.mcp.everything.tools).toBeGreaterThan(3);
    });

    test("a server that exits is started again and health shows it", async () => {
      const pids = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(gw.proc.pid)]).toString();
      const line = pids.split("\n").find((l) => l.includes("server-everything"))!;
      process.kill(Number(line.trim().split(/\s+/)[0]), "SIGKILL");
      const h = await until(async () => {
        const mcp = (await c.request("health")).payload.agent.mcp.everything;
        return mcp.restarts >= 1 && mcp.state === "ready" ? mcp : null;
      }, "everything restarted", 15_000);
      expect(h.lastError).toBeUndefined();
      const { final } = await run(c, { message: "add 2 and 3" });
      expect(final.payload.summary).toBe("results: The sum of 2 and 3 is 5.");
    });

    test("a server whose tools change (list_changed) is listed again: the next run is offered the new tool", async () => {
      const before = (await c.request("health")).payload.agent.mcp.slow.tools;
      const first = fake.requests.length;
      await run(c, { message: "grow a tool" });
      expect(fake.requests[first]!.body.tools.map((t: any) => t.function.name)).not.toContain("slow__extra");
      await until(async () => (await c.request("health")).payload.agent.mcp.slow.tools === before + 1, "slow's new tool in health");
      const next = fake.requests.length;
      await run(c, { message: "hello again" });
      expect(fake.requests[next]!.body.tools.map((t: any) => t.function.name)).toContain("slow__extra");
    });

    test("tool calls are counted in /metrics", async () => {
      const gwHttp = gw.url.replace("ws://", "http://");
      const text = await (await fetch(`${gwHttp}/metrics`)).text();
      expect(text).toMatch(/clawdis_tool_calls_total\{server="everything",tool="get-sum",ok="true"\} [1-9]/);
      expect(text).toMatch(/clawdis_tool_calls_total\{server="slow",tool="wait",ok="false"\} 1/);
      expect(text).toContain('clawdis_tool_call_duration_seconds_bucket{server="everything",tool="get-sum"');
    });
  });
}
