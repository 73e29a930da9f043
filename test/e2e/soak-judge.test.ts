/** The soak's memory judge on synthetic RSS series: a GC sawtooth passes, a leak under the same saw fails. */
import { describe, expect, test } from "bun:test";
import { judgeMemory, slope, type RssSample } from "./soak-judge.ts";

/** RSS every 5 s for `minutes`: a sawtooth between `lo` and `hi` MiB with period `periodS`, plus `leak` MiB/min. */
function series(minutes: number, lo: number, hi: number, periodS: number, leak: number): RssSample[] {
  const out: RssSample[] = [];
  for (let t = 0; t <= minutes * 60; t += 5) {
    const saw = lo + ((t % periodS) / periodS) * (hi - lo);
    out.push({ tMs: t * 1000, rssKiB: Math.round((saw + leak * (t / 60)) * 1024) });
  }
  return out;
}

describe("soak memory judge", () => {
  test("slope is the least-squares slope", () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2);
    expect(slope([0, 1], [5, 5])).toBe(0);
  });

  test("the run the old judge failed (sawtooth 156–234 MiB, second half −1.0 MiB/min, end +45% over warm-up) passes", () => {
    // Warm-up at 160 MiB, then the saw; the end stands high on its tooth.
    const samples = series(20, 156, 234, 97, -1.0).map((s) => (s.tMs <= 60_000 ? { ...s, rssKiB: 160 * 1024 } : s));
    const v = judgeMemory(samples);
    expect(v.ok).toBe(true);
    expect(v.slopeMiBPerMin).toBeLessThan(1);
    expect(v.plateauMaxMiB).toBeGreaterThan(200);
    expect(v.plateauMeanMiB).toBeGreaterThan(150);
    expect(v.plateauMeanMiB).toBeLessThan(v.plateauMaxMiB);
    expect(v.reason).toContain("no leak");
  });

  test("a leak of 5 MiB/min under the same sawtooth fails, naming the slope", () => {
    const v = judgeMemory(series(20, 156, 234, 97, 5));
    expect(v.ok).toBe(false);
    expect(v.slopeMiBPerMin).toBeGreaterThan(4);
    expect(v.reason).toMatch(/RSS climbs \d+\.\d\d MiB\/min through the second half .*a leak/);
  });

  test("a slow climb that adds under 5% of the plateau over the half is not called a leak; a steep one is", () => {
    expect(judgeMemory(series(10, 150, 150, 60, 0.5)).ok).toBe(true);
    expect(judgeMemory(series(10, 80, 80, 60, 20)).ok).toBe(false);
  });

  test("a run too short to be past warm-up is not judged on memory (and says so), however it climbs", () => {
    const v = judgeMemory(series(1.5, 64, 64, 60, 40));
    expect(v).toMatchObject({ ok: true, judged: false });
    expect(v.reason).toMatch(/^memory not judged: a run under 8 min is still warming up/);
    expect(judgeMemory(series(1.5, 64, 64, 60, 40), { minMinutes: 1 }).ok).toBe(false);
  });

  test("a flat line passes; too few samples cannot be judged", () => {
    expect(judgeMemory(series(5, 100, 100, 60, 0)).ok).toBe(true);
    expect(judgeMemory(series(5, 100, 100, 60, 0).slice(0, 3))).toMatchObject({ ok: false, reason: expect.stringContaining("too few") });
  });
});
