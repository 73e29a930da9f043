import { GatewayClient, GatewayClientError } from "../client/index.ts";
import { VERSION } from "../version.ts";
import { CliExit, Exit } from "./errors.ts";

export interface ConnectFlags {
  url?: string;
  token?: string;
  timeout?: string;
}

/** Connect, run `fn`, close; map client failures to the documented exit codes. */
export async function withClient(flags: ConnectFlags, fn: (client: GatewayClient) => Promise<void>): Promise<void> {
  const timeoutMs = flags.timeout ? Number(flags.timeout) : 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new CliExit(Exit.USAGE, `--timeout: expected milliseconds > 0, got ${JSON.stringify(flags.timeout)}`);
  }
  const WS = globalThis.WebSocket ?? ((await import("ws")).WebSocket as unknown as typeof WebSocket);
  const token = flags.token ?? process.env.CLAWDIS_GATEWAY_TOKEN;
  const client = new GatewayClient({
    url: flags.url ?? "ws://127.0.0.1:18789",
    ...(token ? { token } : {}),
    timeoutMs,
    WebSocket: WS,
    client: { name: "clawdis-cli", version: VERSION, mode: "cli" },
  });
  try {
    await client.connect(timeoutMs);
    await fn(client);
  } catch (err) {
    if (err instanceof GatewayClientError) {
      const code = err.kind === "remote" ? Exit.FAILURE : Exit.CONNECT;
      throw new CliExit(code, err.message);
    }
    throw err;
  } finally {
    client.close();
  }
}
