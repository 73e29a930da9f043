/**
 * The bench's Deno baseline: `Deno.serve` + `Deno.upgradeWebSocket`, doing what
 * echo-server.ts does on Bun: echo each text frame, and send a frame starting with
 * BROADCAST_PREFIX to every open socket. Prints `listening on ws://127.0.0.1:PORT`.
 */
declare const Deno: any;
const BROADCAST_PREFIX = '{"type":"req","method":"system-event"';
const sockets = new Set<WebSocket>();
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }: { port: number }) => console.log(`listening on ws://127.0.0.1:${port}`) }, (req: Request) => {
  if (req.headers.get("upgrade") !== "websocket") return new Response("websocket only\n", { status: 426 });
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.onopen = () => sockets.add(socket);
  socket.onclose = () => sockets.delete(socket);
  socket.onmessage = (e: MessageEvent) => {
    if (typeof e.data === "string" && e.data.startsWith(BROADCAST_PREFIX)) {
      for (const s of sockets) s.send(e.data);
      return;
    }
    socket.send(e.data);
  };
  return response;
});
Deno.addSignalListener("SIGTERM", () => server.shutdown().then(() => Deno.exit(0)));
