/**
 * A minimal WebSocket client over a raw TCP socket (Bun.connect), for load generation.
 *
 * Why not the standard WebSocket: on a 2-core machine the load generator competes with
 * the server for CPU, and the standard client costs about as much per frame as an echo
 * server does (a UTF-16 string and an event per frame, one write per send), so the echo
 * baseline would measure the client. This one hands frames over as byte ranges, never
 * decodes what it does not need, and writes every frame queued while handling one read
 * in a single write (the way a pipelining client batches).
 *
 * Client frames are masked with a zero key (allowed by RFC 6455: the key must be
 * unpredictable for browsers' sake, not for the server's parsing), so the payload is
 * written as is. Server frames must not be fragmented (neither server fragments).
 */
import type { Socket } from "bun";

export interface RawWsHandlers {
  /** One complete text/binary frame: its payload is buf[start, end). */
  onFrame(ws: RawWs, buf: Uint8Array, start: number, end: number): void;
  onClose?(ws: RawWs, code: number): void;
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class RawWs {
  /** Frames with FIN=0 or an unexpected opcode seen (should stay 0). */
  oddFrames = 0;
  closed = false;
  closeCode = 0;
  private sock: Socket<undefined> | null = null;
  private acc = new Uint8Array(64 * 1024);
  private accLen = 0;
  private upgraded = false;
  private out = new Uint8Array(16 * 1024);
  private outLen = 0;
  private unsent: Uint8Array | null = null;
  private inRead = false;
  private onUpgraded: ((err?: Error) => void) | null = null;

  private constructor(private readonly handlers: RawWsHandlers) {}

  /** Connect and upgrade; resolves once the server answered 101. */
  static async connect(host: string, port: number, handlers: RawWsHandlers, timeoutMs = 15_000): Promise<RawWs> {
    const ws = new RawWs(handlers);
    const upgraded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`upgrade timed out after ${timeoutMs} ms`)), timeoutMs);
      ws.onUpgraded = (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
    });
    ws.sock = await Bun.connect({
      hostname: host,
      port,
      socket: {
        open: (s) => {
          s.write(
            `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          );
        },
        data: (_s, chunk) => ws.onData(chunk),
        drain: () => ws.flush(),
        close: () => ws.onSocketClosed(1006),
        error: () => ws.onSocketClosed(1006),
        connectError: () => ws.onUpgraded?.(new Error("connect failed")),
      },
    });
    await upgraded;
    return ws;
  }

  /** Queue a text frame; it is written at the end of the current read, or at once outside one. */
  send(text: string): void {
    const n = Buffer.byteLength(text, "utf8");
    const hdr = n < 126 ? 6 : n < 65536 ? 8 : 14;
    this.reserve(hdr + n);
    const o = this.out;
    let p = this.outLen;
    o[p++] = 0x81;
    if (n < 126) o[p++] = 0x80 | n;
    else if (n < 65536) {
      o[p++] = 0x80 | 126;
      o[p++] = n >>> 8;
      o[p++] = n & 0xff;
    } else {
      o[p++] = 0x80 | 127;
      for (let i = 7; i >= 0; i--) o[p++] = i >= 4 ? 0 : (n >>> (i * 8)) & 0xff;
    }
    o[p++] = 0;
    o[p++] = 0;
    o[p++] = 0;
    o[p++] = 0;
    const { written } = encoder.encodeInto(text, o.subarray(p, p + n));
    this.outLen = p + (written ?? n);
    if (!this.inRead) this.flush();
  }

  close(): void {
    if (this.closed) return;
    // A close frame with code 1000, then the TCP end.
    this.reserve(8);
    this.out.set([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8], this.outLen);
    this.outLen += 8;
    this.flush();
    this.sock?.end();
  }

  /** Decode a payload range as text (only where a bench needs to read a frame). */
  static text(buf: Uint8Array, start: number, end: number): string {
    return decoder.decode(buf.subarray(start, end));
  }

  flush(): void {
    if (!this.sock) return;
    if (this.unsent) {
      const w = this.sock.write(this.unsent);
      this.unsent = w < this.unsent.length ? this.unsent.slice(w) : null;
      if (this.unsent) return; // drain will call again
    }
    if (this.outLen === 0) return;
    const data = this.out.subarray(0, this.outLen);
    const w = this.sock.write(data);
    if (w < data.length) this.unsent = data.slice(Math.max(0, w));
    this.outLen = 0;
  }

  private reserve(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    const bigger = new Uint8Array(Math.max(this.out.length * 2, this.outLen + n));
    bigger.set(this.out.subarray(0, this.outLen));
    this.out = bigger;
  }

  private onSocketClosed(code: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closeCode === 0) this.closeCode = code;
    if (!this.upgraded) this.onUpgraded?.(new Error("socket closed before the upgrade"));
    this.handlers.onClose?.(this, this.closeCode);
  }

  private onData(chunk: Uint8Array): void {
    this.inRead = true;
    try {
      let buf: Uint8Array;
      let len: number;
      if (this.accLen === 0) {
        buf = chunk;
        len = chunk.length;
      } else {
        this.append(chunk);
        buf = this.acc;
        len = this.accLen;
      }
      let p = 0;
      if (!this.upgraded) {
        const text = decoder.decode(buf.subarray(0, len));
        const endOfHead = text.indexOf("\r\n\r\n");
        if (endOfHead < 0) {
          if (buf !== this.acc) this.append(chunk);
          return;
        }
        if (!text.startsWith("HTTP/1.1 101")) {
          this.onUpgraded?.(new Error(`upgrade refused: ${text.split("\r\n")[0]}`));
          this.sock?.end();
          return;
        }
        this.upgraded = true;
        this.onUpgraded?.();
        p = endOfHead + 4; // the head is ASCII: char index = byte index
      }
      p = this.parse(buf, p, len);
      // Keep what is left of a partial frame.
      const rest = len - p;
      if (buf === this.acc) {
        if (rest > 0 && p > 0) this.acc.copyWithin(0, p, len);
        this.accLen = rest;
      } else if (rest > 0) {
        this.accLen = 0;
        this.append(chunk.subarray(p));
      }
    } finally {
      this.inRead = false;
      this.flush();
    }
  }

  private append(chunk: Uint8Array): void {
    if (this.accLen + chunk.length > this.acc.length) {
      const bigger = new Uint8Array(Math.max(this.acc.length * 2, this.accLen + chunk.length));
      bigger.set(this.acc.subarray(0, this.accLen));
      this.acc = bigger;
    }
    this.acc.set(chunk, this.accLen);
    this.accLen += chunk.length;
  }

  /** Handle every complete frame in buf[p, len); returns where the unparsed rest starts. */
  private parse(buf: Uint8Array, p: number, len: number): number {
    while (len - p >= 2) {
      const b0 = buf[p]!;
      let n = buf[p + 1]! & 0x7f;
      let hdr = 2;
      if (n === 126) {
        if (len - p < 4) break;
        n = (buf[p + 2]! << 8) | buf[p + 3]!;
        hdr = 4;
      } else if (n === 127) {
        if (len - p < 10) break;
        n = buf[p + 6]! * 2 ** 24 + ((buf[p + 7]! << 16) | (buf[p + 8]! << 8) | buf[p + 9]!);
        hdr = 10;
      }
      if (len - p < hdr + n) break;
      const start = p + hdr;
      const end = start + n;
      const opcode = b0 & 0x0f;
      if ((b0 & 0x80) === 0) this.oddFrames += 1;
      if (opcode === 1 || opcode === 2) this.handlers.onFrame(this, buf, start, end);
      else if (opcode === 8) {
        this.closeCode = n >= 2 ? (buf[start]! << 8) | buf[start + 1]! : 1005;
        this.sock?.end();
      } else if (opcode === 9) {
        // ping → pong with the same payload
        this.reserve(6 + n);
        this.out[this.outLen++] = 0x8a;
        this.out[this.outLen++] = 0x80 | n;
        this.out.fill(0, this.outLen, this.outLen + 4);
        this.outLen += 4;
        this.out.set(buf.subarray(start, end), this.outLen);
        this.outLen += n;
      } else if (opcode !== 10) this.oddFrames += 1;
      p = end;
    }
    return p;
  }
}

/** Does buf[start…] begin with the ASCII string s? */
export function startsWithAscii(buf: Uint8Array, start: number, end: number, s: string): boolean {
  if (end - start < s.length) return false;
  for (let i = 0; i < s.length; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}
