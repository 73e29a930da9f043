import type { RuntimeName } from "./types.ts";
import { detectRuntime } from "./index.ts";

type Signal = "SIGTERM" | "SIGINT" | "SIGHUP";
interface DenoSignals {
  addSignalListener(sig: Signal, fn: () => void): void;
}

/** Subscribe to a termination signal on any runtime. */
export function onSignal(sig: Signal, fn: () => void, runtime: RuntimeName = detectRuntime()): void {
  if (runtime === "deno") (globalThis as unknown as { Deno: DenoSignals }).Deno.addSignalListener(sig, fn);
  else process.on(sig, fn);
}
