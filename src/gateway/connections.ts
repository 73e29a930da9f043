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
  readonly all = new Set<Connection>();
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
    this.all.add(conn);
    return true;
  }

  settled(conn: Connection): void {
    this.slots.release(conn);
  }

  gone(conn: Connection): void {
    this.slots.release(conn);
    this.all.delete(conn);
  }
}
