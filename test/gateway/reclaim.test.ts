import { describe, expect, test } from "bun:test";
import { intern } from "../../src/core/intern.ts";
import { Reclaim } from "../../src/gateway/reclaim.ts";
import { keptClient } from "../../src/gateway/welcome.ts";

const OPTS = { largeFrame: 100, thresholdBytes: 1_000, quietMs: 40, minIntervalMs: 150 };

describe("Reclaim: one collection once a burst of large frames is over", () => {
  test("small frames never count; a burst past the threshold collects once, after it went quiet", async () => {
    let runs = 0;
    const seen: { bytes: number }[] = [];
    const r = new Reclaim(() => runs++, (info) => seen.push(info), OPTS);
    for (let i = 0; i < 10_000; i++) r.note(99);
    await Bun.sleep(80);
    expect(runs).toBe(0);
    // A burst: 20 large frames 10 ms apart; no collection while it lasts.
    for (let i = 0; i < 20; i++) {
      r.note(100);
      await Bun.sleep(10);
      if (i >= 10) expect(runs).toBe(0);
    }
    await Bun.sleep(100);
    expect(runs).toBe(1);
    expect(seen[0]!.bytes).toBe(2_000);
    r.stop();
  });

  test("at most one collection per minIntervalMs, however many bursts", async () => {
    let runs = 0;
    const r = new Reclaim(() => runs++, () => {}, OPTS);
    r.note(1_000);
    await Bun.sleep(60);
    expect(runs).toBe(1);
    r.note(1_000);
    await Bun.sleep(60); // quiet, but the last collection was < 150 ms ago
    expect(runs).toBe(1);
    await Bun.sleep(120);
    expect(runs).toBe(2);
    r.stop();
  });

  test("no collector: nothing is counted or scheduled; stop() cancels a pending one", async () => {
    const none = new Reclaim(null, () => {}, OPTS);
    none.note(10_000);
    let runs = 0;
    const r = new Reclaim(() => runs++, () => {}, OPTS);
    r.note(10_000);
    r.stop();
    await Bun.sleep(80);
    expect(runs).toBe(0);
    expect(none.runs).toBe(0);
  });
});

describe("intern and keptClient: one copy of what many connections repeat", () => {
  test("the same text comes back, short or long", () => {
    const a = ["127.0.0", ".1"].join("");
    const b = ["127.0", ".0.1"].join("");
    // (Which copy comes back cannot be seen from JS; the RSS figure 4a in BENCHMARKS.md shows it.)
    expect(intern(a)).toBe("127.0.0.1");
    expect(intern(b)).toBe("127.0.0.1");
    const long = "x".repeat(65);
    expect(intern(long)).toBe(long);
  });

  test("a hello's extra client fields are not kept; the known ones are", () => {
    const client = { name: "app", version: "1", platform: "macos", mode: "ui", instanceId: "i-1", host: "mac", deviceFamily: "Mac", blob: "x".repeat(60_000) };
    expect(keptClient(client)).toEqual({ name: "app", version: "1", platform: "macos", mode: "ui", instanceId: "i-1", host: "mac" });
    expect(keptClient({ name: "cli", version: "2", platform: "linux", mode: "cli" })).toEqual({ name: "cli", version: "2", platform: "linux", mode: "cli" });
  });
});
