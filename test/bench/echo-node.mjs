/**
 * The bench's Node baseline: the smallest `ws` server (the library the gateway's Node
 * adapter runs on), doing what echo-server.ts does on Bun: echo each text frame, and send a
 * frame starting with BROADCAST_PREFIX to every open socket. Prints
 * `listening on ws://127.0.0.1:PORT`.
 */
import { WebSocketServer } from "ws";

const BROADCAST_PREFIX = '{"type":"req","method":"system-event"';
const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? data : data.toString();
    if (!isBinary && text.startsWith(BROADCAST_PREFIX)) {
      for (const c of wss.clients) c.send(text);
      return;
    }
    ws.send(text);
  });
});
wss.on("listening", () => console.log(`listening on ws://127.0.0.1:${wss.address().port}`));
process.on("SIGTERM", () => wss.close(() => process.exit(0)));
