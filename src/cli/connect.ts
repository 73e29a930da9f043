import { clientWebSocket } from "../runtime/websocket.ts";
import { GatewayClient, GatewayClientError } from "../client/index.ts";
import { VERSION } from "../version.ts";
import { CliExit, Exit } from "./errors.ts";
import { visible } from "../core/visible.ts";

/** Flags every command that talks to a running gateway shares. */
export const connectArgs = {
  url: { type: "string", description: "Gateway URL (default ws://127.0.0.1:18789)" },
  token: { type: "string", description: "Gateway token (or CLAWDIS_GATEWAY_TOKEN)" },
  timeout: { type: "string", description: "Timeout in ms (default 10000)" },
  json: { type: "boolean", description: "Print the raw JSON payload" },
} as const;

export interface ConnectFlags {
  url?: string;
  token?: string;
  timeout?: string;
}

export function parseTimeout(raw: string | undefined, fallback = 10_000): number {
  if (raw === undefined) return fallback;
  const ms = Number(raw);
  if (!/^\d+$/.test(raw) || ms <= 0) throw new CliExit(Exit.USAGE, `--timeout: expected milliseconds > 0, got ${JSON.stringify(raw)}`);
  return ms;
}

/** Exit code and one-line message for a client failure. */
export function exitFor(err: GatewayClientError): CliExit {
  if (err.kind === "remote") return new CliExit(Exit.FAILURE, err.message, err);
  if (err.kind === "handshake") return new CliExit(Exit.CONNECT, `handshake refused: ${err.message}`, err);
  if (err.kind === "connect") return new CliExit(Exit.CONNECT, `could not connect: ${err.message}`, err);
  // A timeout or a drop mid-request: the gateway did not answer.
  return new CliExit(Exit.CONNECT, `no answer from the gateway: ${err.message}`, err);
}

/**
 * Connect (never spawning a gateway), run `fn`, close; map failures to the documented
 * exit codes: 1 gateway error, 3 connect/handshake.
 */
export async function withClient(
  flags: ConnectFlags,
  fn: (client: GatewayClient, timeoutMs: number) => Promise<void>,
  opts: { reconnect?: boolean } = {},
): Promise<void> {
  const timeoutMs = parseTimeout(flags.timeout);
  const WS = await clientWebSocket();
  const token = flags.token ?? process.env.CLAWDIS_GATEWAY_TOKEN;
  const client = new GatewayClient({
    url: flags.url ?? "ws://127.0.0.1:18789",
    ...(token ? { token } : {}),
    timeoutMs,
    connectTimeoutMs: timeoutMs,
    // Long-running helpers (agent) ride out a dropped link: resume + agent.wait.
    reconnect: opts.reconnect ?? false,
    backoff: { initialMs: 250, maxMs: 5_000 },
    WebSocket: WS,
    client: { name: "clawdis-cli", version: VERSION, mode: "cli" },
  });
  try {
    await client.connect();
    await fn(client, timeoutMs);
  } catch (err) {
    if (err instanceof GatewayClientError) throw exitFor(err);
    throw err;
  } finally {
    client.close();
  }
}

/** Print a payload as JSON (exact), or through `human` when --json is not set (control characters shown visibly). */
export function print(json: boolean | undefined, payload: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(payload, null, 2) : visible(human(), { lines: true }));
}
