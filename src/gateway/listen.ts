import type { Config } from "../config/schema.ts";
import { listenOr } from "../core/net.ts";
import type { Listening, RuntimeAdapter } from "../runtime/index.ts";
import { listenersOnPort } from "./force.ts";

/** A start-up failure with a message meant for the operator. */
export class GatewayStartError extends Error {}

/** " (held by pid N cmd)" for an address-in-use message, or "" when lsof cannot tell. */
function describePortHolder(port: number): string {
  try {
    const holders = listenersOnPort(port);
    return holders.length > 0 ? ` (held by ${holders.map((h) => `pid ${h.pid} ${h.command}`).join(", ")})` : "";
  } catch {
    return "";
  }
}

/** Bind the gateway's port; a failure says who holds the port and what to do. */
export async function listenOrExplain(adapter: RuntimeAdapter, gateway: Config["gateway"]): Promise<Listening> {
  return listenOr(
    () => adapter.listen({ hostname: gateway.bind, port: gateway.port, maxPayload: gateway.maxPayload }),
    (inUse, message) =>
      new GatewayStartError(
        inUse
          ? `port ${gateway.port} on ${gateway.bind} is already in use${describePortHolder(gateway.port)}: ` +
              `stop that process, pick another --port, or run \`clawdis gateway --force\``
          : `cannot listen on ${gateway.bind}:${gateway.port}: ${message}`,
      ),
  );
}
