/**
 * The benchmark's baseline: the smallest WebSocket server Bun allows. It echoes every
 * text frame as is (no parsing, no validation, no logic), with one exception so that the
 * fan-out figures have a ceiling too: a frame starting with BROADCAST_PREFIX is sent to
 * every open socket in a plain loop (what any broadcaster has to do at least).
 *
 * The bench compiles this file with the same `bun build --compile` flags as dist/clawdis
 * and runs it as a child process, exactly like the gateway. Prints
 * `listening on ws://127.0.0.1:PORT`; `--version` prints a line and exits.
 */
import { BROADCAST_PREFIX } from "./shared.ts";

if (process.argv.includes("--version")) {
  console.log("echo-baseline 1");
  process.exit(0);
}

type Ws = import("bun").ServerWebSocket<undefined>;
const sockets = new Set<Ws>();

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req, srv) {
    if (srv.upgrade(req)) return undefined;
    return new Response("websocket only\n", { status: 426 });
  },
  websocket: {
    open(ws) {
      sockets.add(ws);
    },
    message(ws, msg) {
      if (typeof msg === "string" && msg.startsWith(BROADCAST_PREFIX)) {
        for (const s of sockets) s.send(msg);
        return;
      }
      ws.send(msg);
    },
    close(ws) {
      sockets.delete(ws);
    },
  },
});

console.log(`listening on ws://127.0.0.1:${server.port}`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
