/**
 * `CLAWDIS_TRACE_START=1`: one stderr line per start-up step (ms since the process began,
 * RSS), to see where a start's time and memory go (BENCHMARKS.md, 6b/6c). Off: one boolean test.
 */
const on = typeof process !== "undefined" && process.env?.CLAWDIS_TRACE_START === "1";

const marked = new Set<string>();

/** A step that happens many times (the first hello-ok): marked the first time only. */
export function startMarkOnce(step: string): void {
  if (on && !marked.has(step)) {
    marked.add(step);
    startMark(step);
  }
}

export function startMark(step: string): void {
  if (!on) return;
  process.stderr.write(`start-trace ${performance.now().toFixed(1)} ms ${(process.memoryUsage.rss() / 1048576).toFixed(1)} MiB ${step}\n`);
}
