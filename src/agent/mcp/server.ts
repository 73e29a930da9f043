import type { Client } from "@modelcontextprotocol/sdk/client";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Config } from "../../config/schema.ts";
import { Backoff } from "../../core/backoff.ts";
import type { Logger } from "../../log.ts";
import type { McpServerHealth } from "../../protocol/index.ts";
import { VERSION } from "../../version.ts";
import { toolFilter } from "./glob.ts";

export type McpServerConfig = Config["agent"]["mcp"]["servers"][string];

/** `idle`: lazy and not used yet; `restarting`: waiting out its backoff after a failure. */
export type McpState = McpServerHealth["state"];
export type { McpServerHealth };

export interface McpTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

/** What `tools/call` answered (the SDK's CallToolResult, as far as the backend reads it). */
export interface McpCallResult {
  content?: unknown[];
  structuredContent?: unknown;
  isError?: boolean;
}

/** A server up this long has recovered: its next failure starts the backoff over. */
const STABLE_MS = 60_000;
const MAX_TOOLS = 256;
const MAX_LINE = 500;

/**
 * One MCP server through the official SDK (imported on first use, client side only): started,
 * its tools listed, and started again with backoff whenever it dies or fails to start. A
 * server that prints garbage, hangs or exits only changes its own state here; the gateway
 * stays up.
 */
export class McpServerConnection {
  private state: McpState;
  private tools: McpTool[] = [];
  private lastError: string | undefined;
  private restarts = 0;
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  /** Each start attempt's number: events of an older attempt's client are ignored. */
  private attempt = 0;
  private readyAt = 0;
  /** Failed starts in a row. */
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly backoff = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  private readonly allowed: (tool: string) => boolean;

  constructor(
    readonly name: string,
    private readonly cfg: McpServerConfig,
    /** A server that does not answer `initialize` or `tools/list` in this long is given up on (and retried). */
    private readonly startTimeoutMs: number,
    private readonly log: Logger,
    private readonly onChange: () => void,
  ) {
    this.state = "idle";
    this.allowed = toolFilter(cfg.allowTools, cfg.denyTools);
  }

  get lazy(): boolean {
    return this.cfg.lazy;
  }

  health(): McpServerHealth {
    return { state: this.state, tools: this.tools.length, restarts: this.restarts, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** The allowed tools while the server is up, else none. */
  listTools(): readonly McpTool[] {
    return this.state === "ready" ? this.tools : [];
  }

  /**
   * Worth waiting for before a run lists tools: unused (lazy) or in its first start. A server
   * that failed or died before is not waited for: a hanging one must not hold every run.
   */
  get isPending(): boolean {
    return this.state === "idle" || (this.state === "starting" && this.failures === 0 && this.readyAt === 0);
  }

  /** Connected (starting it now if it is not), or the reason it is not. */
  ensure(): Promise<Client> {
    if (this.state === "stopped") return Promise.reject(new Error(`MCP server ${this.name} is stopped`));
    if (this.client && this.state === "ready") return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  /** Call a tool; `timeoutMs` and `signal` cancel it through MCP cancellation. */
  async call(tool: string, args: Record<string, unknown>, opts: { signal: AbortSignal; timeoutMs: number }): Promise<McpCallResult> {
    const client = await this.ensure();
    return (await client.callTool({ name: tool, arguments: args }, undefined, { signal: opts.signal, timeout: opts.timeoutMs })) as McpCallResult;
  }

  async stop(): Promise<void> {
    this.setState("stopped");
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.attempt += 1;
    const client = this.client;
    this.client = null;
    await client?.close().catch(() => {});
  }

  private setState(state: McpState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange();
  }

  private async connect(): Promise<Client> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const attempt = ++this.attempt;
    this.setState("starting");
    let client: Client | null = null;
    let firstError: string | undefined;
    try {
      const { Client } = await import("@modelcontextprotocol/sdk/client");
      // A server whose tools change says so (notifications/tools/list_changed): list them again.
      const onToolsChanged = () => {
        if (attempt === this.attempt && this.state === "ready" && this.client) void this.relist(this.client, attempt);
      };
      client = new Client(
        { name: "clawdis", version: VERSION },
        { capabilities: {}, listChanged: { tools: { autoRefresh: false, onChanged: onToolsChanged } } },
      );
      client.onclose = () => {
        if (attempt === this.attempt && this.state === "ready") this.died(this.cfg.url !== undefined ? "the server closed the connection" : "the server process exited");
      };
      // Garbage on stdout, a broken pipe: while starting it is the likely cause of a failed start
      // (said with it); once up, the first is a warning and the rest debug (no flooding).
      client.onerror = (err) => {
        if (attempt !== this.attempt) return;
        const text = err.message.slice(0, MAX_LINE);
        this.log[firstError === undefined && this.state === "ready" ? "warn" : "debug"](`mcp ${this.name}: ${text}`);
        firstError ??= text;
      };
      const transport = await this.transport();
      await client.connect(transport, { timeout: this.startTimeoutMs });
      const tools = await this.list(client);
      if (attempt !== this.attempt) throw new Error(`MCP server ${this.name} was stopped while starting`);
      this.client = client;
      this.tools = tools;
      this.readyAt = Date.now();
      this.lastError = undefined;
      this.failures = 0;
      firstError = undefined;
      this.log.info(`mcp ${this.name}: ready with ${tools.length} tool(s)`);
      this.setState("ready");
      return client;
    } catch (err) {
      const cause = (err as Error).message;
      const message = `could not start: ${cause}${firstError && !cause.includes(firstError) ? ` (${firstError})` : ""}`;
      if (attempt === this.attempt) {
        this.attempt += 1;
        this.lastError = message;
        // The first failure in a row is a warning; the retries that follow are in health and at debug.
        this.log[++this.failures === 1 ? "warn" : "debug"](`mcp ${this.name}: ${message}`, { attempt: this.failures });
        this.retryLater();
      }
      await client?.close().catch(() => {});
      throw new Error(`MCP server ${this.name} ${message}`);
    }
  }

  private async transport(): Promise<Transport> {
    const cfg = this.cfg;
    if (cfg.url !== undefined) {
      const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
      return new StreamableHTTPClientTransport(new URL(cfg.url), cfg.headers ? { requestInit: { headers: cfg.headers } } : undefined);
    }
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    const [command, ...args] = cfg.command ?? [];
    const transport = new StdioClientTransport({
      command: command!,
      args,
      stderr: "pipe",
      ...(cfg.env ? { env: cfg.env } : {}),
      ...(cfg.cwd ? { cwd: cfg.cwd } : {}),
    });
    let partial = "";
    transport.stderr?.on("data", (chunk: Buffer | string) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = (lines.pop() ?? "").slice(-MAX_LINE);
      for (const line of lines) if (line.trim()) this.log.debug(`mcp ${this.name} stderr: ${line.slice(0, MAX_LINE)}`);
    });
    return transport;
  }

  private async relist(client: Client, attempt: number): Promise<void> {
    try {
      const tools = await this.list(client);
      if (attempt !== this.attempt) return;
      // Some servers announce a change right after start-up without one: only a real change is news.
      const names = (list: readonly McpTool[]) => list.map((t) => t.name).join("\n");
      const changed = names(tools) !== names(this.tools);
      this.tools = tools;
      if (!changed) return;
      this.log.info(`mcp ${this.name}: its tools changed; now ${tools.length}`);
      this.onChange();
    } catch (err) {
      this.log.debug(`mcp ${this.name}: could not list its changed tools: ${(err as Error).message}`);
    }
  }

  /** Every page of `tools/list`, bounded, keeping the allowed ones. */
  private async list(client: Client): Promise<McpTool[]> {
    const tools: McpTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: this.startTimeoutMs });
      for (const t of page.tools) {
        if (tools.length >= MAX_TOOLS) break;
        if (!this.allowed(t.name)) continue;
        tools.push({ name: t.name, inputSchema: t.inputSchema as Record<string, unknown>, ...(t.description ? { description: t.description } : {}) });
      }
      cursor = page.nextCursor;
    } while (cursor && tools.length < MAX_TOOLS);
    return tools;
  }

  private died(reason: string): void {
    this.attempt += 1;
    this.client = null;
    this.tools = [];
    this.restarts += 1;
    this.lastError = reason;
    if (Date.now() - this.readyAt >= STABLE_MS) this.backoff.reset();
    this.log.warn(`mcp ${this.name}: ${reason}; starting it again`);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.state === "stopped") return;
    this.setState("restarting");
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => void this.ensure().catch(() => {}), delay);
    (this.retryTimer as { unref?: () => void }).unref?.();
  }
}
