import type { RuntimeName } from "./types.ts";

// See runtime/index.ts: set for the Bun binary, where the `ws` fallback is dead code.
declare const __CLAWDIS_RUNTIME__: RuntimeName | undefined;

/**
 * The WebSocket constructor for talking to a gateway: the standard one where the
 * runtime has it (Bun, Deno, Node ≥ 22), else the `ws` package (Node 20, a declared
 * dependency). GatewayClient listens for `error` itself, which `ws` requires.
 */
export async function clientWebSocket(): Promise<typeof WebSocket> {
  if (typeof __CLAWDIS_RUNTIME__ === "string" && __CLAWDIS_RUNTIME__ === "bun") {
    return globalThis.WebSocket;
  } else {
    if (globalThis.WebSocket) return globalThis.WebSocket;
    return (await import("ws")).WebSocket as unknown as typeof WebSocket;
  }
}
