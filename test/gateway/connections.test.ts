import { describe, expect, test } from "bun:test";
import type { Connection } from "../../src/gateway/connection.ts";
import { Connections } from "../../src/gateway/connections.ts";

/** Enough of a Connection for the registry: its address, its links, and close(). */
function conn(name: string, registry?: Connections): Connection {
  const c = { name, remote: "127.0.0.1", linkPrev: null, linkNext: null, closed: false } as unknown as Connection & { name: string; closed: boolean };
  (c as unknown as { close: () => void }).close = () => {
    (c as { closed: boolean }).closed = true;
    registry?.gone(c);
  };
  return c;
}
const names = (cs: Connection[]) => cs.map((c) => (c as unknown as { name: string }).name);

describe("Connections: every admitted connection, linked through the connections", () => {
  test("admitted ones are listed newest first; gone ones leave from the head, the middle and the tail", () => {
    const reg = new Connections(() => 100, Date.now());
    const [a, b, c, d] = ["a", "b", "c", "d"].map((n) => conn(n, reg));
    for (const x of [a, b, c, d]) expect(reg.admit(x!)).toBe(true);
    expect(names(reg.all())).toEqual(["d", "c", "b", "a"]);
    reg.gone(c!); // middle
    expect(names(reg.all())).toEqual(["d", "b", "a"]);
    reg.gone(d!); // head
    expect(names(reg.all())).toEqual(["b", "a"]);
    reg.gone(a!); // tail
    expect(names(reg.all())).toEqual(["b"]);
    reg.gone(b!);
    expect(reg.all()).toEqual([]);
  });

  test("gone() is idempotent, and harmless for a connection never admitted", () => {
    const reg = new Connections(() => 100, Date.now());
    const [a, b] = ["a", "b"].map((n) => conn(n, reg));
    reg.admit(a!);
    reg.admit(b!);
    reg.gone(b!);
    reg.gone(b!);
    reg.gone(conn("stranger"));
    expect(names(reg.all())).toEqual(["a"]);
  });

  test("closing every connection while walking the snapshot (a shutdown) empties the list", () => {
    const reg = new Connections(() => 100, Date.now());
    const cs = Array.from({ length: 10 }, (_, i) => conn(`c${i}`, reg));
    for (const c of cs) reg.admit(c);
    for (const c of reg.all()) (c as unknown as { close: () => void }).close();
    expect(reg.all()).toEqual([]);
    expect(cs.every((c) => (c as unknown as { closed: boolean }).closed)).toBe(true);
  });

  test("a refused socket (handshake slots full) is not listed", () => {
    const reg = new Connections(() => 2, Date.now());
    const cs = ["a", "b", "c"].map((n) => ({ ...conn(n, reg), remote: "203.0.113.9" }) as unknown as Connection);
    const admitted = cs.map((c) => reg.admit(c));
    expect(admitted.filter(Boolean).length).toBeLessThan(3);
    expect(reg.all().length).toBe(admitted.filter(Boolean).length);
  });
});
