import { memoByString } from "../core/intern.ts";
import { internalRule, ipBytes } from "../core/ip.ts";

/** A socket holding a slot: closed to free it for another client. */
export interface SlotHolder {
  readonly remote: string;
  close(code: number, reason: string): void;
}

/** One non-loopback address (an IPv6 /64: one host owns the whole prefix) may hold this share of the slots. */
export const REMOTE_SHARE = 1 / 4;

/**
 * Whose slots these are: loopback peers by exact address, IPv4 by address, IPv6 by /64.
 * `loopback` is true too for a peer the runtime could not name (no address to cap by).
 */
export const slotKey = memoByString(slotKeyOf);

function slotKeyOf(remote: string): { readonly key: string; readonly loopback: boolean } {
  const b = ipBytes(remote);
  if (!b) return { key: remote, loopback: true };
  const loopback = internalRule(remote) === "loopback";
  if (b.length === 16 && b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) {
    return { key: b.slice(12).join("."), loopback };
  }
  if (b.length === 4 || loopback) return { key: remote, loopback };
  const hex = (i: number) => ((b[i]! << 8) | b[i + 1]!).toString(16);
  return { key: `${hex(0)}:${hex(2)}:${hex(4)}:${hex(6)}::/64`, loopback };
}

/**
 * The sockets still in their handshake, and who gets a slot when they are scarce
 * (`gateway.maxPendingHandshakes`): one remote address holds at most a quarter of the
 * slots; when all are taken, a newcomer takes the oldest slot of the address holding the
 * most (if it holds more than the newcomer would, or is the newcomer's own address), and a
 * loopback newcomer takes the oldest slot of a remote one. Every socket here has yet to
 * finish its hello (one that sent it is answered in the same turn), so the oldest is a
 * silent one: a flood from the very address a client shares with it (another local
 * account on 127.0.0.1) delays that client, never locks it out. Bounded: at most `max`.
 */
export class HandshakeSlots<T extends SlotHolder> {
  /** Insertion order is age: the first entry is the oldest. */
  private readonly pending = new Map<T, { key: string; loopback: boolean }>();
  private readonly byKey = new Map<string, Set<T>>();

  constructor(private readonly max: () => number) {}

  get size(): number {
    return this.pending.size;
  }

  /** Give `conn` a slot (maybe by closing an unfair holder's oldest), or refuse it with the reason. */
  admit(conn: T, close: { code: number; reason: string }): { ok: true } | { ok: false; why: string } {
    const max = this.max();
    const who = slotKey(conn.remote);
    const mine = this.byKey.get(who.key)?.size ?? 0;
    if (!who.loopback && mine >= Math.max(1, Math.ceil(max * REMOTE_SHARE))) {
      return { ok: false, why: `this address holds its share (${mine}) of the ${max} handshake slots` };
    }
    if (this.pending.size >= max) {
      const victim = this.victim(who, mine);
      if (!victim) return { ok: false, why: `all ${max} handshake slots are taken` };
      victim.close(close.code, close.reason);
      // close() normally calls release(); make sure the slot is free whatever the holder does.
      this.release(victim);
    }
    this.pending.set(conn, who);
    let set = this.byKey.get(who.key);
    if (!set) this.byKey.set(who.key, (set = new Set()));
    set.add(conn);
    return { ok: true };
  }

  /** The socket finished its handshake or closed: its slot is free. */
  release(conn: T): void {
    const who = this.pending.get(conn);
    if (!who) return;
    this.pending.delete(conn);
    const set = this.byKey.get(who.key);
    set?.delete(conn);
    if (set?.size === 0) this.byKey.delete(who.key);
  }

  /** Whose slot a newcomer may take: a remote one's for a loopback newcomer, else the biggest holder's if it holds 2+ more or is the newcomer's own address. */
  private victim(newcomer: { key: string; loopback: boolean }, mine: number): T | undefined {
    if (newcomer.loopback) {
      for (const [conn, who] of this.pending) if (!who.loopback) return conn;
    }
    let biggest: Set<T> | undefined;
    for (const set of this.byKey.values()) if (!biggest || set.size > biggest.size) biggest = set;
    if (!biggest) return undefined;
    const own = biggest === this.byKey.get(newcomer.key);
    if (!own && biggest.size <= mine + 1) return undefined;
    return biggest.values().next().value;
  }
}
