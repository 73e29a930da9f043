import { connect, type Socket } from "node:net";

/** A hand-driven WebSocket over TCP, for what a real client would never do (stop reading, odd headers). */
export interface RawSocket {
  sock: Socket;
  /** The HTTP response head to the upgrade. */
  head: string;
  sendText(text: string): void;
  close(): void;
}

/** `localAddress`: the client's own source address (127.0.0.0/8 is all loopback on Linux). */
export function rawUpgrade(port: number, headers: Record<string, string> = {}, localAddress?: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ port, host: "127.0.0.1", ...(localAddress ? { localAddress } : {}) });
    let buf = "";
    const timer = setTimeout(() => reject(new Error("no upgrade response")), 5_000);
    sock.once("error", reject);
    sock.on("connect", () => {
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      sock.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
      );
    });
    const onData = (d: Buffer) => {
      buf += d.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      clearTimeout(timer);
      sock.off("data", onData);
      resolve({
        sock,
        head: buf.slice(0, end),
        sendText(text) {
          sock.write(maskedTextFrame(text));
        },
        close() {
          sock.destroy();
        },
      });
    };
    sock.on("data", onData);
  });
}

/** A client→server text frame (clients must mask). */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text, "utf8");
  const mask = Buffer.from(crypto.getRandomValues(new Uint8Array(4)));
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x81, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    header[0] = 0x81;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}

/** Split server→client frames (unmasked) off the front of `buf`: the text payloads, and what is left. */
export function serverTexts(buf: Buffer): { texts: string[]; rest: Buffer } {
  const texts: string[] = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    let len = buf[at + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - at < 4) break;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) break;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (buf.length - at < head + len) break;
    if ((buf[at]! & 0x0f) === 1) texts.push(buf.toString("utf8", at + head, at + head + len));
    at += head + len;
  }
  return { texts, rest: buf.subarray(at) };
}
