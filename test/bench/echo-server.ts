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

/**
 * `--floor`: the least a protocol server does per frame (bench row "2b (floor)"): parse it,
 * read `type`/`id`/`method`, and answer a `res` whose payload is as big as the gateway's
 * `status` (built and serialized per request). No validation, no dispatch, no metrics.
 */
const FLOOR = process.argv.includes("--floor");
const startedAt = Date.now();
function floorAnswer(ws: Ws, msg: string): void {
  const f = JSON.parse(msg) as { type?: string; id?: string; method?: string };
  if (f.type === "hello") return void ws.send(msg); // as the echo answers it (the bench reads only the reply's start)
  if (f.type !== "req" || typeof f.id !== "string" || typeof f.method !== "string") return ws.close(1008, "not a req");
  const payload = {
    version: "0.1.0",
    commit: "000000000000",
    host: "bench-host",
    uptimeMs: Date.now() - startedAt,
    linked: [],
    providers: { whatsapp: { linked: false, connected: false }, telegram: { configured: false, connected: false } },
    clients: sockets.size,
    agent: { backend: "echo", running: 0 },
  };
  ws.send(`{"type":"res","id":${JSON.stringify(f.id)},"ok":true,"payload":${JSON.stringify(payload)}}`);
}

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
      if (FLOOR && typeof msg === "string") return floorAnswer(ws, msg);
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
