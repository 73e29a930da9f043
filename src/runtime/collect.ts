/**
 * A full garbage collection, where the runtime offers one: `Bun.gc(true)` (which also hands
 * freed pages back to the system), Node's `gc` when started with `--expose-gc`. Deno has
 * none; null there.
 */
export function fullCollector(): (() => void) | null {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun && typeof bun.gc === "function") return () => bun.gc(true);
  const gc = (globalThis as { gc?: () => void }).gc;
  return typeof gc === "function" ? () => gc() : null;
}
