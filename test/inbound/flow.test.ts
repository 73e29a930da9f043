/** Issue 21 §3–§6, the pure parts: a chat's line, bursts, the late rule and its texts, placeholders. */
import { describe, expect, test } from "bun:test";
import { Bursts } from "../../src/inbound/bursts.ts";
import { ageText, clockTime, lateness, LateNotices, writtenPhrase } from "../../src/inbound/late.ts";
import { ChatOrder } from "../../src/inbound/order.ts";
import { oversizedText, placeholderText } from "../../src/inbound/placeholders.ts";

describe("a chat's line (order.ts)", () => {
  test("a place is ready once every earlier one let go, whatever order they let go in; other chats do not wait", async () => {
    const order = new ChatOrder();
    const a = order.take("c1");
    const b = order.take("c1");
    const c = order.take("c1");
    const other = order.take("c2");
    const seen: string[] = [];
    void b.ready.then(() => seen.push("b"));
    void c.ready.then(() => seen.push("c"));
    void other.ready.then(() => seen.push("other"));
    await Bun.sleep(5);
    expect(seen).toEqual(["other"]);
    b.release(); // early: c still waits for a
    await Bun.sleep(5);
    expect(seen).toEqual(["other"]);
    a.release();
    await Bun.sleep(5);
    expect(seen).toEqual(["other", "b", "c"]);
    c.release();
    other.release();
    await Bun.sleep(5);
    expect(order.size).toBe(0);
  });

  test("a place that is never let go holds its chat only up to the bound", async () => {
    const order = new ChatOrder(50);
    order.take("c");
    const next = order.take("c");
    const t0 = Date.now();
    await next.ready;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
  });
});

describe("bursts (bursts.ts)", () => {
  test("items close into one turn once the window passed with every item settled; the first is the head", async () => {
    const b = new Bursts<string>();
    const one = b.join("k", 60)!;
    const two = b.join("k", 60)!;
    const three = b.join("k", 60)!;
    three.abandon();
    const outs = await Promise.all([one.settle("r1", "a"), (async () => (await Bun.sleep(30), two.settle("r2", "b")))()]);
    expect(outs).toEqual([
      { head: true, items: ["a", "b"], recordIds: ["r1", "r2"] },
      { head: false, foldedInto: "r1" },
    ]);
    expect(b.size).toBe(0);
    // A later item opens a new burst.
    const four = b.join("k", 10)!;
    expect(await four.settle("r4", "d")).toEqual({ head: true, items: ["d"], recordIds: ["r4"] });
  });

  test("an item still downloading holds the close until it is recorded", async () => {
    const b = new Bursts<string>();
    const one = b.join("k", 20)!;
    const two = b.join("k", 20)!;
    const first = one.settle("r1", "a");
    let closed = false;
    void first.then(() => (closed = true));
    await Bun.sleep(80);
    expect(closed).toBe(false);
    void two.settle("r2", "b");
    expect((await first).head).toBe(true);
  });
});

describe("late messages (late.ts)", () => {
  const s = { lateAfterMs: 60_000, lateAnswerWindowMs: 6 * 3_600_000, lateNotice: "offline at {time}" as const };
  test("on time, late (answered, told when written) or too old", () => {
    const now = Date.now();
    expect(lateness(now - 30_000, now, s)).toEqual({ kind: "on time" });
    expect(lateness(now - 120_000, now, s)).toEqual({ kind: "late", writtenAt: now - 120_000 });
    expect(lateness(now - 9 * 3_600_000, now, s)).toEqual({ kind: "too old", writtenAt: now - 9 * 3_600_000 });
    expect(lateness(undefined, now, s)).toEqual({ kind: "on time" });
  });

  test("the age as a person says it", () => {
    expect(ageText(2 * 60_000)).toBe("2 min");
    expect(ageText((3 * 60 + 10) * 60_000)).toBe("3 h 10 min");
    expect(ageText(3 * 3_600_000)).toBe("3 h");
    expect(ageText(26 * 3_600_000)).toBe("1 d 2 h");
    const now = new Date(2026, 11, 7, 17, 12).getTime();
    const at = new Date(2026, 11, 7, 14, 2).getTime();
    expect(writtenPhrase(at, now)).toBe("written 14:02, 3 h 10 min ago");
    expect(clockTime(new Date(2026, 11, 6, 9, 5).getTime(), now)).toBe("Dec 6 09:05");
  });

  test("one notice per chat per backlog; an on-time message ends the backlog", () => {
    const n = new LateNotices();
    const t = 1_000_000;
    expect([n.due("c", t), n.due("c", t + 1), n.due("d", t + 2)]).toEqual([true, false, true]);
    n.onTime("c");
    expect(n.due("c", t + 3)).toBe(true);
    expect(n.due("c", t + 3 + 11 * 60_000)).toBe(true);
  });
});

describe("placeholders (placeholders.ts)", () => {
  test("as the issue writes them", () => {
    expect(placeholderText({ kind: "location", lat: 48.8606, lon: 2.3376, name: "Louvre Museum" })).toBe('[location 48.8606,2.3376 "Louvre Museum"]');
    expect(placeholderText({ kind: "contact", contacts: [{ name: "Ada Lovelace", phone: "+44 20 7946 0000" }] })).toBe("[contact: Ada Lovelace +44 20 7946 0000]");
    expect(placeholderText({ kind: "sticker", emoji: "😀" })).toBe("[sticker 😀]");
    expect(placeholderText({ kind: "poll", question: "question", options: ["option 1", "option 2"] })).toBe("[poll: question — option 1 / option 2]");
    expect(oversizedText({ kind: "document", name: "report.pdf", bytes: 48 * 1024 * 1024 })).toBe("[document report.pdf, 48.0 MiB: not downloaded, over the limit]");
  });
});
