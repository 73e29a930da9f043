/** Issue 20 §4: who gets a handshake slot when they are scarce. */
import { describe, expect, test } from "bun:test";
import { HandshakeSlots, slotKey } from "../../src/gateway/handshake-slots.ts";

class Sock {
  closedWith: number | null = null;
  constructor(
    readonly remote: string,
    private readonly slots: HandshakeSlots<Sock>,
  ) {}
  close(code: number): void {
    this.closedWith = code;
    this.slots.release(this);
  }
}

const EVICT = { code: 4005, reason: "slot taken" };

function table(max: number) {
  const slots = new HandshakeSlots<Sock>(() => max);
  const open = (remote: string) => {
    const s = new Sock(remote, slots);
    return { s, ok: slots.admit(s, EVICT).ok };
  };
  return { slots, open };
}

describe("HandshakeSlots", () => {
  test("a remote address holds at most a quarter of the slots; others still get theirs", () => {
    const { open } = table(16);
    const got = Array.from({ length: 10 }, () => open("203.0.113.9").ok);
    expect(got.filter(Boolean).length).toBe(4);
    expect(open("198.51.100.7").ok).toBe(true);
  });

  test("an IPv6 /64 is one address (one host owns the whole prefix)", () => {
    expect(slotKey("2001:db8:1:2::5").key).toBe(slotKey("2001:db8:1:2:ffff::9").key);
    expect(slotKey("2001:db8:1:3::5").key).not.toBe(slotKey("2001:db8:1:2::5").key);
    expect(slotKey("::ffff:127.0.0.2")).toEqual({ key: "127.0.0.2", loopback: true });
    const { open } = table(8);
    expect([1, 2, 3].map((i) => open(`2001:db8::${i}`).ok)).toEqual([true, true, false]);
  });

  test("a loopback flood fills the table, yet a client from another address takes the flood's oldest slot", () => {
    const { slots, open } = table(8);
    const flood = Array.from({ length: 8 }, () => open("127.0.0.2"));
    expect(flood.every((f) => f.ok)).toBe(true);
    const client = open("127.0.0.1");
    expect(client.ok).toBe(true);
    expect(flood[0]!.s.closedWith).toBe(4005);
    expect(flood.slice(1).every((f) => f.s.closedWith === null)).toBe(true);
    expect(slots.size).toBe(8);
  });

  test("a flood from the client's own address (another account on 127.0.0.1) never locks it out: the oldest silent socket goes", () => {
    const { slots, open } = table(8);
    const flood = Array.from({ length: 8 }, () => open("127.0.0.1"));
    const client = open("127.0.0.1");
    expect(client.ok).toBe(true);
    expect(flood[0]!.s.closedWith).toBe(4005);
    expect(flood.slice(1).every((f) => f.s.closedWith === null)).toBe(true);
    // The flooder re-opening takes its own oldest next, not the client's newer slot.
    open("127.0.0.1");
    expect(flood[1]!.s.closedWith).toBe(4005);
    expect(client.s.closedWith).toBe(null);
    expect(slots.size).toBe(8);
  });

  test("when remote addresses fill the table, a loopback client takes a remote slot", () => {
    const { open } = table(8);
    const remotes = Array.from({ length: 8 }, (_, i) => open(`198.51.100.${i + 1}`));
    expect(remotes.every((r) => r.ok)).toBe(true);
    // Another remote with one slot each everywhere: nobody holds more than it would, refused.
    expect(open("198.51.100.99").ok).toBe(false);
    expect(open("::1").ok).toBe(true);
    expect(remotes[0]!.s.closedWith).toBe(4005);
  });

  test("a finished handshake gives its slot back", () => {
    const { slots, open } = table(2);
    const a = open("127.0.0.1");
    open("127.0.0.2");
    // Full, and 127.0.0.2 holds no more than this newcomer would: refused.
    expect(open("127.0.0.3").ok).toBe(false);
    slots.release(a.s);
    expect(open("127.0.0.3").ok).toBe(true);
  });
});
