/**
 * The WebSocket constructor for talking to a gateway: the standard one where the
 * runtime has it (Bun, Deno, Node ≥ 22), else the `ws` package (Node 20). GatewayClient
 * listens for `error` itself, which `ws` requires.
 */
export async function clientWebSocket(): Promise<typeof WebSocket> {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  return (await import("ws")).WebSocket as unknown as typeof WebSocket;
}
