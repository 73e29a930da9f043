/**
 * The soak's memory verdict. A garbage-collected process's RSS is a sawtooth: comparing
 * its end with one early sample says more about where the saw stood than about a leak.
 * What a leak does is make the plateau rise, so the judge fits a line (least squares)
 * through the second half of the run and fails when that line climbs — both fast in
 * absolute terms and by a real share of the plateau over the half it was fitted on.
 */

export interface RssSample {
  /** Milliseconds since the soak started. */
  tMs: number;
  rssKiB: number;
}

export interface SoakMemoryVerdict {
  ok: boolean;
  /** Slope of the second half, MiB per minute (negative: shrinking). */
  slopeMiBPerMin: number;
  /** What that slope adds over the second half, as a share of the plateau's mean. */
  riseShare: number;
  plateauMeanMiB: number;
  plateauMaxMiB: number;
  samples: number;
  /** False when the run was too short to tell a leak from warm-up (the verdict is then about errors alone). */
  judged: boolean;
  reason: string;
}

export interface JudgeOptions {
  /** A slope below this is no leak, whatever the share (MiB/min). Default 1. */
  maxSlopeMiBPerMin?: number;
  /** A rise over the second half below this share of the plateau is no leak. Default 0.05. */
  maxRiseShare?: number;
  /**
   * Runs shorter than this (minutes) are not judged: their second half is still warm-up
   * (200 clients connecting, caches filling), which climbs like a leak. Default 5.
   */
  minMinutes?: number;
}

const MiB = 1024;

/** Least-squares slope of y over x (per unit of x); 0 for fewer than two distinct x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Judge the RSS samples of a soak (taken over the whole run, evenly). */
export function judgeMemory(samples: RssSample[], opts: JudgeOptions = {}): SoakMemoryVerdict {
  const maxSlope = opts.maxSlopeMiBPerMin ?? 1;
  const maxShare = opts.maxRiseShare ?? 0.05;
  if (samples.length < 4) {
    return { ok: false, slopeMiBPerMin: 0, riseShare: 0, plateauMeanMiB: 0, plateauMaxMiB: 0, samples: samples.length, judged: false, reason: "too few RSS samples to judge (run longer)" };
  }
  const end = samples.at(-1)!.tMs;
  const start = samples[0]!.tMs;
  const half = samples.filter((s) => s.tMs >= start + (end - start) / 2);
  const minutes = half.map((s) => s.tMs / 60_000);
  const mib = half.map((s) => s.rssKiB / MiB);
  const slopeMiBPerMin = slope(minutes, mib);
  const plateauMeanMiB = mib.reduce((a, b) => a + b, 0) / mib.length;
  const plateauMaxMiB = Math.max(...mib);
  const spanMin = minutes.at(-1)! - minutes[0]!;
  const riseShare = (slopeMiBPerMin * spanMin) / plateauMeanMiB;
  const judged = (end - start) / 60_000 >= (opts.minMinutes ?? 8);
  const leak = judged && slopeMiBPerMin > maxSlope && riseShare > maxShare;
  const reason = !judged
    ? `memory not judged: a run under ${opts.minMinutes ?? 8} min is still warming up (second-half slope ${slopeMiBPerMin.toFixed(2)} MiB/min); run SOAK_SECONDS=600 or more`
    : leak
    ? `RSS climbs ${slopeMiBPerMin.toFixed(2)} MiB/min through the second half (+${(riseShare * 100).toFixed(1)}% of the plateau over ${spanMin.toFixed(1)} min): a leak`
    : `second-half slope ${slopeMiBPerMin.toFixed(2)} MiB/min (${riseShare >= 0 ? "+" : ""}${(riseShare * 100).toFixed(1)}% of the plateau over ${spanMin.toFixed(1)} min): no leak`;
  return { ok: !leak, slopeMiBPerMin, riseShare, plateauMeanMiB, plateauMaxMiB, samples: half.length, judged, reason };
}
