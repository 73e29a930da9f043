import type { Logger } from "../../log.ts";
import { capText, toolOutput, type ToolOutput } from "./result.ts";
import { McpServerConnection, type McpServerConfig, type McpServerHealth } from "./server.ts";

/** A Chat Completions function tool. */
export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

/** The tools the model is offered for one request, and where each name leads. */
export interface OfferedTools {
  defs: FunctionTool[];
  route: Map<string, { server: string; tool: string }>;
}

/** What a backend needs of the tools: what to offer, and a way to call one. */
export interface ToolBox {
  offer(signal: AbortSignal): Promise<OfferedTools>;
  call(offered: OfferedTools, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutput>;
}

export interface McpHubOptions {
  servers: Record<string, McpServerConfig>;
  callTimeoutMs: number;
  maxResultChars: number;
  startTimeoutMs: number;
  log: Logger;
  /** A server changed state (health). */
  onChange?: () => void;
}

/** Function names allow [A-Za-z0-9_-] up to 64 characters. */
const functionName = (server: string, tool: string) => `${server}__${tool.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, 64);

/**
 * The configured MCP servers as one tool box: `<server>__<tool>` function tools for the
 * model, each call routed to its server with the call timeout and the result size cap.
 */
export class McpHub implements ToolBox {
  private readonly servers = new Map<string, McpServerConnection>();

  constructor(private readonly opts: McpHubOptions) {
    for (const [name, cfg] of Object.entries(opts.servers)) {
      this.servers.set(name, new McpServerConnection(name, cfg, opts.startTimeoutMs, opts.log, () => opts.onChange?.()));
    }
  }

  get size(): number {
    return this.servers.size;
  }

  /** Start every server that is not lazy; failures show in health and retry on their own. */
  start(): void {
    for (const s of this.servers.values()) if (!s.lazy) s.ensure().catch(() => {});
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.stop()));
  }

  /** `health.agent.mcp`: undefined when no server is configured. */
  health(): Record<string, McpServerHealth> | undefined {
    if (this.servers.size === 0) return undefined;
    return Object.fromEntries([...this.servers].map(([name, s]) => [name, s.health()]));
  }

  async offer(signal: AbortSignal): Promise<OfferedTools> {
    // A lazy server starts on its first use; one still starting is waited for (each bounded by its start timeout).
    const aborted = new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true })));
    const waits = [...this.servers.values()].filter((s) => s.isPending).map((s) => s.ensure().catch(() => {}));
    if (waits.length) await Promise.race([Promise.all(waits), aborted]);
    const offered: OfferedTools = { defs: [], route: new Map() };
    for (const [server, conn] of this.servers) {
      for (const t of conn.listTools()) {
        const name = functionName(server, t.name);
        if (offered.route.has(name)) {
          this.opts.log.debug(`mcp ${server}: tool ${t.name} not offered: its name clashes with another as ${name}`);
          continue;
        }
        offered.route.set(name, { server, tool: t.name });
        const parameters = t.inputSchema?.type === "object" ? t.inputSchema : { type: "object", properties: {} };
        offered.defs.push({ type: "function", function: { name, parameters, ...(t.description ? { description: t.description } : {}) } });
      }
    }
    return offered;
  }

  /**
   * One tool call. A failure of the tool (its error, a timeout, a dead server) is an error
   * result the model reads; only the run's own abort is thrown.
   */
  async call(offered: OfferedTools, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutput> {
    const target = offered.route.get(name);
    const conn = target && this.servers.get(target.server);
    if (!target || !conn) return { ok: false, text: `error: there is no tool named ${name.slice(0, 100)}`, images: [] };
    const { callTimeoutMs, maxResultChars } = this.opts;
    try {
      return toolOutput(await conn.call(target.tool, args, { signal, timeoutMs: callTimeoutMs }), maxResultChars);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const e = err as { code?: number; message?: string };
      // -32001 is the SDK's RequestTimeout: it has sent notifications/cancelled for the call.
      const text =
        e.code === -32001
          ? `error: the tool did not answer within ${callTimeoutMs} ms and was cancelled`
          : `error: ${e.message ?? String(err)}`;
      return { ok: false, text: capText(text, maxResultChars), images: [] };
    }
  }
}
