import { CloseCode } from "../protocol/index.ts";
import { Connection, type ConnectionRegistry } from "./connection.ts";
import type { GatewayContext } from "./context.ts";
import { HandshakeSlots } from "./handshake-slots.ts";

const EVICTED = { code: CloseCode.TOO_MANY_HANDSHAKES, reason: "too many pending handshakes: this slot went to another client; retry shortly" };

/**
 * The gateway's open sockets. Sockets that have not said hello yet are cheap to open:
 * they are capped (the live limit), fairly per address; each connection gets an id unique
 * to this process and start.
 */
export class Connections implements ConnectionRegistry {
  /** Every admitted connection not yet gone, newest first: a list linked through the connections. */
  private head: Connection | null = null;
  private readonly slots: HandshakeSlots<Connection>;
  private readonly prefix: string;
  private next = 0;

  constructor(maxPendingHandshakes: () => number, startedAt: number) {
    this.slots = new HandshakeSlots<Connection>(maxPendingHandshakes);
    this.prefix = `${process.pid.toString(36)}-${startedAt.toString(36)}`;
  }

  /** A socket the runtime accepted, as a connection of this gateway. */
  accept(ctx: GatewayContext, remote: string, origin: string | undefined): Connection {
    return new Connection(ctx, `${this.prefix}-${(++this.next).toString(36)}`, remote, origin, this);
  }

  admit(conn: Connection): boolean {
    if (!this.slots.admit(conn, EVICTED).ok) return false;
    conn.linkNext = this.head;
    if (this.head) this.head.linkPrev = conn;
    this.head = conn;
    return true;
  }

  settled(conn: Connection): void {
    this.slots.release(conn);
  }

  gone(conn: Connection): void {
    this.slots.release(conn);
    if (conn.linkPrev) conn.linkPrev.linkNext = conn.linkNext;
    else if (this.head === conn) this.head = conn.linkNext;
    else return; // not (or no longer) listed
    if (conn.linkNext) conn.linkNext.linkPrev = conn.linkPrev;
    conn.linkPrev = conn.linkNext = null;
  }

  /** A snapshot of every admitted connection not yet gone (closing them while walking it is safe). */
  all(): Connection[] {
    const out: Connection[] = [];
    for (let c = this.head; c; c = c.linkNext) out.push(c);
    return out;
  }
}
