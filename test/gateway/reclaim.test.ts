import { describe, expect, test } from "bun:test";
import { intern } from "../../src/core/intern.ts";
import { Reclaim } from "../../src/gateway/reclaim.ts";
import { keptClient } from "../../src/gateway/welcome.ts";

// Wide margins (quiet 150 ms against gaps of 10 ms): real timers on a loaded machine.
const OPTS = { largeFrame: 100, threshold: 1_000, quietMs: 150, minIntervalMs: 400 };

describe("Reclaim: one collection once a burst of large frames is over", () => {
  test("small frames never count; a burst past the threshold collects once, after it went quiet", async () => {
    let runs = 0;
    const seen: { chars: number }[] = [];
    const r = new Reclaim(() => runs++, (info) => seen.push(info), OPTS);
    for (let i = 0; i < 10_000; i++) r.note(99);
    await Bun.sleep(200);
    expect(runs).toBe(0);
    // A burst: 20 large frames 10 ms apart; no collection while it lasts.
    for (let i = 0; i < 20; i++) {
      r.note(100);
      await Bun.sleep(10);
    }
    expect(runs).toBe(0);
    await Bun.sleep(300);
    expect(runs).toBe(1);
    expect(seen[0]!.chars).toBe(2_000);
    r.stop();
  });

  test("bursts under the threshold are forgotten, not summed over time", async () => {
    let runs = 0;
    const r = new Reclaim(() => runs++, () => {}, OPTS);
    for (let burst = 0; burst < 3; burst++) {
      for (let i = 0; i < 6; i++) r.note(100); // 600 < 1,000
      await Bun.sleep(200); // quiet: the burst is over
    }
    await Bun.sleep(200);
    expect(runs).toBe(0);
    r.stop();
  });

  test("collections are at least minIntervalMs apart, however many bursts", async () => {
    let runs = 0;
    const r = new Reclaim(() => runs++, () => {}, OPTS);
    r.note(1_000);
    await Bun.sleep(250);
    expect(runs).toBe(1);
    r.note(1_000);
    await Bun.sleep(200); // quiet, but the last collection was < 400 ms ago
    expect(runs).toBe(1);
    await Bun.sleep(300);
    expect(runs).toBe(2);
    r.stop();
  });

  test("a burst is not over while its work is still pending (full lists waiting)", async () => {
    let runs = 0;
    let pending = true;
    const r = new Reclaim(() => runs++, () => {}, OPTS, undefined, () => pending);
    r.note(1_000);
    await Bun.sleep(400); // quiet for 150 ms long ago, but lists still wait
    expect(runs).toBe(0);
    pending = false;
    await Bun.sleep(250);
    expect(runs).toBe(1);
    r.stop();
  });

  test("no collector: nothing is counted or scheduled; stop() cancels a pending one", async () => {
    const none = new Reclaim(null, () => {}, OPTS);
    none.note(10_000);
    let runs = 0;
    const r = new Reclaim(() => runs++, () => {}, OPTS);
    r.note(10_000);
    r.stop();
    await Bun.sleep(250);
    expect(runs).toBe(0);
    expect(none.runs).toBe(0);
  });
});

describe("intern and keptClient: one copy of what many connections repeat", () => {
  test("the same text comes back, short or long", () => {
    // (Which copy comes back cannot be seen from JS; the RSS figure 4a in BENCHMARKS.md shows it.)
    expect(intern(["127.0.0", ".1"].join(""))).toBe("127.0.0.1");
    expect(intern(["127.0", ".0.1"].join(""))).toBe("127.0.0.1");
    const long = "x".repeat(65);
    expect(intern(long)).toBe(long);
  });

  test("a hello's extra client fields are not kept; the known ones are", () => {
    const client = { name: "app", version: "1", platform: "macos", mode: "ui", instanceId: "i-1", host: "mac", deviceFamily: "Mac", blob: "x".repeat(60_000) };
    expect(keptClient(client)).toEqual({ name: "app", version: "1", platform: "macos", mode: "ui", instanceId: "i-1", host: "mac" });
    expect(keptClient({ name: "cli", version: "2", platform: "linux", mode: "cli" })).toEqual({ name: "cli", version: "2", platform: "linux", mode: "cli" });
  });
});
