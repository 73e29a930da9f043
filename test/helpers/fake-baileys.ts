/**
 * A fake WhatsApp peer at Baileys' socket-factory seam. Each "connection" is a socket
 * object the test drives (handshake, open, close with a code, QR, incoming stanzas) and
 * whose sends are recorded. Everything above the seam is the real provider and gateway.
 *
 * Inbound messages are NOT hand-built: a test describes a stanza as WhatsApp's server
 * sends it (binary node attributes: from, participant, sender_pn, addressing_mode,
 * offline…) and the fake runs it through Baileys' own receive path — `decryptMessageNode`
 * (which calls `decodeMessageNode`), the LID-mapping bookkeeping of `handleMessage`,
 * then `cleanMessage` — exactly as rc14's socket does before `messages.upsert`. The only
 * shortcut is encryption: the message travels in a `plaintext` child (a path Baileys'
 * own decrypt step handles), so keys, ids, participants and addressing all come from
 * Baileys' code.
 */
import {
  addTransactionCapability,
  initAuthCreds,
  cleanMessage,
  decryptMessageNode,
  DEFAULT_CONNECTION_CONFIG,
  DisconnectReason,
  jidDecode,
  proto,
  type AuthenticationCreds,
  type AuthenticationState,
  type BinaryNode,
  type SignalRepositoryWithLIDStore,
  type UserFacingSocketConfig,
  type WAMessage,
  type WAMessageKey,
} from "@whiskeysockets/baileys";
import type { SocketFactory, WaSocketLike } from "../../src/providers/whatsapp/index.ts";

type Listener = (arg: any) => void;

const quiet: any = { level: "silent", child: () => quiet, trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };

/** A WhatsApp error as Baileys raises it (a Boom with `output.statusCode`). */
function boom(message: string, statusCode: number): Error {
  return Object.assign(new Error(message), { isBoom: true, output: { statusCode, payload: { statusCode, message } } });
}

export interface StanzaOpts {
  id?: string;
  /** Seconds since the epoch (the stanza's `t`). */
  t?: number;
  /** The server delivers it from the offline queue (Baileys then upserts it as `append`). */
  offline?: boolean;
  pushName?: string;
}

let nextStanza = 1;

/** `<message>` stanzas as WhatsApp's server sends them (after the noise layer). */
export const stanza = {
  /** A 1:1 message. `from` is the peer's PN (`…@s.whatsapp.net`) or LID (`…@lid`); `alt` is `sender_lid` / `sender_pn`. */
  direct(from: string, message: proto.IMessage, o: StanzaOpts & { alt?: string } = {}): BinaryNode {
    const lid = from.endsWith("@lid");
    return node({ from, ...(o.alt ? { [lid ? "sender_pn" : "sender_lid"]: o.alt } : {}), addressing_mode: lid ? "lid" : "pn" }, message, o);
  },
  /** A group message from `participant`, with `participant_pn` / `participant_lid` as `alt`. */
  group(groupJid: string, participant: string, message: proto.IMessage, o: StanzaOpts & { alt?: string } = {}): BinaryNode {
    const lid = participant.endsWith("@lid");
    return node(
      { from: groupJid, participant, ...(o.alt ? { [lid ? "participant_pn" : "participant_lid"]: o.alt } : {}), addressing_mode: lid ? "lid" : "pn" },
      message,
      o,
    );
  },
  /**
   * A message the linked account wrote on another of its devices (the phone): `from` is
   * that device's JID, `recipient` the chat it went to (the account's own JID or LID for
   * "Message yourself"). Baileys decodes it as `fromMe` in the `recipient` chat.
   */
  own(from: string, recipient: string, message: proto.IMessage, o: StanzaOpts = {}): BinaryNode {
    return node({ from, recipient, addressing_mode: from.endsWith("@lid") ? "lid" : "pn" }, message, o);
  },
  /** A contact's status post (`status@broadcast`) or a broadcast-list message (`<id>@broadcast`). */
  broadcast(participant: string, message: proto.IMessage, o: StanzaOpts & { list?: string } = {}): BinaryNode {
    return node({ from: o.list ?? "status@broadcast", participant }, message, o);
  },
  /**
   * View-once media as a linked device gets it: no content, only `<unavailable type="view_once"/>`
   * (the phone alone can open it); Baileys marks the key `isViewOnce`.
   */
  viewOnce(from: string, o: StanzaOpts = {}): BinaryNode {
    const n = node({ from, addressing_mode: from.endsWith("@lid") ? "lid" : "pn" }, {}, o);
    return { ...n, content: [{ tag: "unavailable", attrs: { type: "view_once" } }] };
  },
  /** A channel (newsletter) post. */
  newsletter(jid: string, message: proto.IMessage, o: StanzaOpts = {}): BinaryNode {
    return node({ from: jid, server_id: "101" }, message, o);
  },
};

function node(attrs: Record<string, string>, message: proto.IMessage, o: StanzaOpts): BinaryNode {
  const bytes = proto.Message.encode(proto.Message.fromObject(message)).finish();
  return {
    tag: "message",
    attrs: {
      id: o.id ?? `3EB0${(nextStanza++).toString(16).toUpperCase().padStart(16, "0")}`,
      t: String(o.t ?? Math.floor(Date.now() / 1000)),
      type: "text",
      notify: o.pushName ?? "Alice",
      ...attrs,
      ...(o.offline ? { offline: "1" } : {}),
    },
    content: [{ tag: "plaintext", attrs: {}, content: bytes }],
  };
}

/** What pair-success leaves in `creds` (Baileys' `configureSuccessfulPairing`): `me` with its LID, and the signed `account`. */
function pairedFields(me: string, lid: string) {
  return {
    me: { id: me, lid, name: "Test Phone" },
    account: { details: Buffer.from("adv"), accountSignatureKey: Buffer.alloc(32), accountSignature: Buffer.alloc(64), deviceSignature: Buffer.alloc(64) },
    platform: "android",
  };
}

/** Credentials of an account linked earlier. */
export function linkedCreds(me = "15559990000:7@s.whatsapp.net", lid = "99887766554433:7@lid"): AuthenticationCreds {
  return Object.assign(initAuthCreds(), pairedFields(me, lid)) as AuthenticationCreds;
}

export class FakeWaSocket implements WaSocketLike {
  readonly listeners = new Map<string, Listener[]>();
  readonly sent: { jid: string; content: Record<string, unknown>; options?: { quoted?: WAMessage; ephemeralExpiration?: number; messageId?: string } }[] = [];
  /** Presence updates sent (typing: "composing", then "paused"). */
  readonly presence: { type: string; jid: string | undefined; at: number }[] = [];
  /** Every pairing-code request, and whether WhatsApp accepted it. */
  readonly pairingRequests: { phone: string; accepted: boolean }[] = [];
  readonly onWhatsAppCalls: string[][] = [];
  /** Read receipts sent (`readMessages`), one key each. */
  readonly reads: WAMessageKey[] = [];
  /** Upserts as emitted (after Baileys' decode path). */
  readonly upserts: { messages: WAMessage[]; type: string }[] = [];
  readonly signalRepository: SignalRepositoryWithLIDStore;
  ended = false;
  loggedOut = false;
  /** The noise handshake finished (WhatsApp answers requests only after it). */
  handshaken = false;
  private nextId = 1;
  private chain: Promise<void> = Promise.resolve();
  private readonly auth: AuthenticationState;

  constructor(
    readonly config: UserFacingSocketConfig,
    readonly peer: FakeWaPeer,
  ) {
    this.auth = config.auth as AuthenticationState;
    const keys = addTransactionCapability(this.auth.keys, quiet, { maxCommitRetries: 1, delayBetweenTriesMs: 1 });
    this.signalRepository = DEFAULT_CONNECTION_CONFIG.makeSignalRepository({ creds: this.auth.creds, keys }, quiet, async () => undefined);
  }
  ev = {
    on: (event: string, l: Listener) => {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), l]);
    },
  };
  emit(event: string, arg: unknown): void {
    for (const l of this.listeners.get(event) ?? []) l(arg);
  }
  /** The handshake is done and WhatsApp logs in: `connection: "open"`. */
  open(): void {
    this.handshaken = true;
    this.emit("connection.update", { connection: "open" });
  }
  close(code: number, message = `closed with ${code}`): void {
    const error = boom(message, code);
    this.emit("connection.update", { connection: "close", lastDisconnect: { error, date: new Date() } });
  }
  /** Registration: the handshake is done and WhatsApp sends a pairing ref, shown as a QR. */
  qr(code: string): void {
    this.handshaken = true;
    this.emit("connection.update", { qr: code });
  }
  /** The QR refs ran out: Baileys closes with 408 "QR refs attempts ended". */
  qrRefsEnded(): void {
    this.close(DisconnectReason.timedOut, "QR refs attempts ended");
  }
  /** The phone linked (pair-success): Baileys fills `creds.me` and `account`, saves, and opens. */
  link(me = "15559990000:7@s.whatsapp.net", lid = "99887766554433:7@lid"): void {
    const creds = Object.assign(this.auth.creds, pairedFields(me, lid));
    this.emit("creds.update", creds);
    this.emit("connection.update", { isNewLogin: true, qr: undefined });
    this.open();
  }
  /**
   * A stanza from the server, through Baileys' own receive path (messages-recv
   * `handleMessage`, minus the network receipts): decode + decrypt, LID mapping, `cleanMessage`,
   * then `messages.upsert` as `notify`, or `append` when it came from the offline queue.
   */
  receive(stanzaNode: BinaryNode): Promise<WAMessage> {
    return this.receiveBatch([stanzaNode]).then((all) => all[0]!);
  }
  /**
   * Several stanzas upserted together, as Baileys does with the offline queue it
   * drains after a reconnect (one `messages.upsert` with every message, `append`).
   */
  receiveBatch(nodes: BinaryNode[]): Promise<WAMessage[]> {
    const run = this.chain.then(async () => {
      const messages: WAMessage[] = [];
      for (const n of nodes) messages.push(await this.decode(n));
      const upsert = { messages, type: nodes.some((n) => n.attrs.offline) ? "append" : "notify" };
      this.upserts.push(upsert);
      this.emit("messages.upsert", upsert);
      return messages;
    });
    this.chain = run.then(() => {}, () => {});
    return run;
  }
  /** Group metadata lookups WhatsApp answered (what `cachedGroupMetadata` saves). */
  readonly groupMetadataCalls: string[] = [];
  async groupMetadata(jid: string) {
    this.groupMetadataCalls.push(jid);
    return { id: jid, subject: "Plants", participants: [], addressingMode: "pn" } as any;
  }
  private async decode(stanzaNode: BinaryNode): Promise<WAMessage> {
    {
      const me = this.auth.creds.me!;
      const { fullMessage: msg, decrypt } = decryptMessageNode(stanzaNode, me.id, me.lid ?? "", this.signalRepository, quiet);
      const alt = msg.key.participantAlt || msg.key.remoteJidAlt;
      if (alt) {
        const primary = (msg.key.participant || msg.key.remoteJid)!;
        if (jidDecode(alt)?.server === "lid") {
          if (!(await this.signalRepository.lidMapping.getPNForLID(alt))) await this.signalRepository.lidMapping.storeLIDPNMappings([{ lid: alt, pn: primary }]);
        } else await this.signalRepository.lidMapping.storeLIDPNMappings([{ lid: primary, pn: alt }]);
      }
      await decrypt();
      cleanMessage(msg, me.id, me.lid ?? "");
      return msg;
    }
  }
  /** A plain-text 1:1 message from a phone number (PN addressing). */
  incoming(from: string, text: string, id?: string): Promise<WAMessage> {
    return this.receive(stanza.direct(from, { conversation: text }, id ? { id } : {}));
  }
  /**
   * The recipient could not decrypt a message and asks for it again: Baileys looks it up
   * through `config.getMessage` and re-sends it; without it the chat shows "waiting for this message".
   */
  async retryRequest(key: WAMessageKey): Promise<proto.IMessage | undefined> {
    return this.config.getMessage?.(key);
  }
  /**
   * A send as rc14 does it: the id is `options.messageId` when given (else a fresh one).
   * A fault queued in `peer.sendFaults` fails the send instead, as Baileys raises it
   * (e.g. 428 "Connection Closed" when the socket drops mid-send, `closes: true` closing the
   * connection with it); every attempt is in `attempts`.
   */
  async sendMessage(jid: string, content: Record<string, unknown>, options?: { quoted?: WAMessage; ephemeralExpiration?: number; messageId?: string }) {
    const id = options?.messageId ?? `WAMID${this.nextId++}`;
    const fault = this.peer.sendFaults.shift();
    this.peer.attempts.push({ jid, id, text: String(content.text ?? content.caption ?? ""), failed: fault?.message });
    if (fault) {
      // The socket dropped under the send: Baileys closes the connection, and the pending send rejects.
      if (fault.closes) this.close(fault.status, fault.message);
      throw boom(fault.message, fault.status);
    }
    // `sent` keeps the quote and the disappearing timer only; the id of every attempt is in `peer.attempts`.
    const kept = { ...(options?.quoted ? { quoted: options.quoted } : {}), ...(options?.ephemeralExpiration ? { ephemeralExpiration: options.ephemeralExpiration } : {}) };
    this.sent.push({ jid, content, ...(Object.keys(kept).length ? { options: kept } : {}) });
    return { key: { remoteJid: jid, fromMe: true, id }, message: { conversation: String(content.text ?? content.caption ?? "") } };
  }
  async readMessages(keys: WAMessageKey[]): Promise<void> {
    this.reads.push(...keys);
  }
  async sendPresenceUpdate(type: string, jid?: string): Promise<void> {
    this.presence.push({ type, jid, at: Date.now() });
  }
  /**
   * The server stopped answering keep-alive pings: rc14's keep-alive timer (socket.js)
   * ends the socket with 408 "Connection was lost" once `keepAliveIntervalMs` + 5 s pass
   * without an answer.
   */
  keepAliveLost(): void {
    this.close(DisconnectReason.connectionLost, "Connection was lost");
  }
  async onWhatsApp(...jids: string[]) {
    this.onWhatsAppCalls.push(jids);
    return jids.map((j) => ({ jid: j, exists: !this.peer.notOnWhatsApp.has(j.split("@")[0]!.replace(/^\+/, "")) }));
  }
  end(): void {
    this.ended = true;
  }
  async logout(): Promise<void> {
    this.loggedOut = true;
  }
  /**
   * As rc14 does: store the code and `creds.me`, emit `creds.update`, then send the
   * companion-hello iq — which fails with 428 "Connection Closed" before the noise handshake.
   */
  async requestPairingCode(phone: string): Promise<string> {
    const creds = this.auth.creds as any;
    creds.pairingCode = "ABCDEFGH";
    creds.me = { id: `${phone}@s.whatsapp.net`, name: "~" };
    this.emit("creds.update", creds);
    const accepted = this.handshaken && !this.ended;
    this.pairingRequests.push({ phone, accepted });
    if (!accepted) throw boom("Connection Closed", DisconnectReason.connectionClosed);
    return creds.pairingCode;
  }
}

export class FakeWaPeer {
  readonly sockets: FakeWaSocket[] = [];
  /** Phone numbers (digits) that `onWhatsApp` reports as not on WhatsApp. */
  readonly notOnWhatsApp = new Set<string>();
  /** Faults for the next sends, in order, on whichever socket sends them. */
  readonly sendFaults: { status: number; message: string; closes?: boolean }[] = [];
  /** Every send attempt on any socket: the message id it carried, and the fault it met. */
  readonly attempts: { jid: string; id: string; text: string; failed?: string }[] = [];
  /** Called with each new socket, e.g. to open it at once. */
  onSocket: ((s: FakeWaSocket) => void) | null = null;
  readonly factory: SocketFactory = (config) => {
    const s = new FakeWaSocket(config, this);
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
