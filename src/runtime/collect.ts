import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * A full garbage collection, where the runtime offers one: `Bun.gc(true)` in Bun (it also
 * hands freed pages back to the system); V8's `gc` on Node and Deno, reached by setting
 * `--expose-gc` (which V8 honours for contexts made afterwards) and taking `gc` from a fresh
 * context — nothing is exposed on this process's own global. Null where none is reachable.
 */
export function fullCollector(): (() => void) | null {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun && typeof bun.gc === "function") return () => bun.gc(true);
  const own = (globalThis as { gc?: () => void }).gc;
  if (typeof own === "function") return () => own();
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? () => (gc as () => void)() : null;
  } catch {
    return null;
  }
}
