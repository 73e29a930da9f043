/**
 * A fake WhatsApp peer at Baileys' socket-factory seam: each "connection" is a socket
 * object the test drives (open, close with a code, QR, incoming messages) and whose
 * sends are recorded. Everything above the seam is the real provider and gateway.
 */
import type { UserFacingSocketConfig } from "@whiskeysockets/baileys";
import type { SocketFactory, WaSocketLike } from "../../src/providers/whatsapp/index.ts";

type Listener = (arg: any) => void;

export class FakeWaSocket implements WaSocketLike {
  readonly listeners = new Map<string, Listener[]>();
  readonly sent: { jid: string; content: Record<string, unknown> }[] = [];
  ended = false;
  loggedOut = false;
  private nextId = 1;
  constructor(readonly config: UserFacingSocketConfig) {}
  ev = {
    on: (event: string, l: Listener) => {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), l]);
    },
  };
  emit(event: string, arg: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l(arg);
  }
  open(): void {
    this.emit("connection.update", { connection: "open" });
  }
  close(code: number, message = `closed with ${code}`): void {
    const error = Object.assign(new Error(message), { output: { statusCode: code } });
    this.emit("connection.update", { connection: "close", lastDisconnect: { error, date: new Date() } });
  }
  qr(code: string): void {
    this.emit("connection.update", { qr: code });
  }
  /** The phone scanned the QR: Baileys fills `creds.me`, saves, and opens. */
  link(me = "15559990000:7@s.whatsapp.net"): void {
    (this.config.auth as any).creds.me = { id: me, name: "Test Phone" };
    this.emit("creds.update", {});
    this.open();
  }
  incoming(from: string, text: string, id: string): void {
    this.emit("messages.upsert", {
      type: "notify",
      messages: [{ key: { remoteJid: from, fromMe: false, id }, message: { conversation: text }, messageTimestamp: Math.floor(Date.now() / 1000) }],
    });
  }
  async sendMessage(jid: string, content: Record<string, unknown>) {
    this.sent.push({ jid, content });
    return { key: { id: `WAMID${this.nextId++}` } };
  }
  end(): void {
    this.ended = true;
  }
  async logout(): Promise<void> {
    this.loggedOut = true;
  }
  async requestPairingCode(): Promise<string> {
    return "ABCD-EFGH";
  }
}

export class FakeWaPeer {
  readonly sockets: FakeWaSocket[] = [];
  /** Called with each new socket, e.g. to open it at once. */
  onSocket: ((s: FakeWaSocket) => void) | null = null;
  readonly factory: SocketFactory = (config) => {
    const s = new FakeWaSocket(config);
    this.sockets.push(s);
    queueMicrotask(() => this.onSocket?.(s));
    return s;
  };
  get last(): FakeWaSocket {
    return this.sockets.at(-1)!;
  }
  async waitForSockets(n: number, timeoutMs = 3_000): Promise<FakeWaSocket> {
    const end = Date.now() + timeoutMs;
    while (this.sockets.length < n) {
      if (Date.now() > end) throw new Error(`fake WhatsApp peer: expected ${n} sockets, got ${this.sockets.length}`);
      await Bun.sleep(10);
    }
    return this.sockets[n - 1]!;
  }
}
