import { describe, expect, test } from "bun:test";
import { ListPump, type ListReader } from "../../src/gateway/list-pump.ts";
import { until } from "../helpers/until.ts";

/** A reader whose socket is drained or not, recording what it was sent. */
class Reader implements ListReader {
  pending: string | null = null;
  sent: string[] = [];
  drained = true;
  offerList(prefix: string): void {
    this.pending = prefix;
  }
  flushList(): boolean {
    if (this.pending === null) return true;
    if (!this.drained) return false;
    this.sent.push(this.pending);
    this.pending = null;
    return true;
  }
}

describe("full presence lists are conflated per reader", () => {
  test("lists offered in one turn leave once, the newest", async () => {
    const pump = new ListPump();
    const r = new Reader();
    for (let i = 1; i <= 50; i++) pump.offer(r, `list-${i}`);
    await until(() => r.sent.length > 0, "a list sent");
    await Bun.sleep(30);
    expect(r.sent).toEqual(["list-50"]);
    pump.stop();
  });

  test("a reader that has not drained keeps only the newest list, and gets it once it drains", async () => {
    const pump = new ListPump({ idleMs: 5, maxIdleMs: 20 });
    const slow = new Reader();
    const fast = new Reader();
    slow.drained = false;
    for (let i = 1; i <= 20; i++) {
      pump.offer(slow, `v${i}`);
      pump.offer(fast, `v${i}`);
      await Bun.sleep(2);
    }
    await until(() => fast.sent.at(-1) === "v20", "the fast reader on the newest list");
    expect(slow.sent).toEqual([]);
    expect(pump.size).toBe(1);
    slow.drained = true;
    await until(() => slow.sent.length > 0, "the slow reader's list once drained", 2_000);
    expect(slow.sent).toEqual(["v20"]);
    expect(pump.size).toBe(0);
    pump.stop();
  });

  test("a reader that leaves is forgotten", async () => {
    const pump = new ListPump();
    const r = new Reader();
    pump.offer(r, "x");
    pump.remove(r);
    await Bun.sleep(20);
    expect(r.sent).toEqual([]);
    expect(pump.size).toBe(0);
  });

  test("a long pass yields to the event loop between slices", async () => {
    const pump = new ListPump({ sliceMs: 1 });
    const readers = Array.from({ length: 400 }, () => new Reader());
    // Each send costs ~0.05 ms: the pass spans several turns.
    for (const r of readers) {
      const orig = r.flushList.bind(r);
      r.flushList = () => {
        const end = performance.now() + 0.05;
        while (performance.now() < end);
        return orig();
      };
      pump.offer(r, "big");
    }
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    await until(() => readers.every((r) => r.sent.length === 1), "every reader served", 5_000);
    clearInterval(ticker);
    expect(turns).toBeGreaterThan(2);
    pump.stop();
  });
});
