import type { Hono } from "hono";
import type { RuntimeAdapter, RuntimeName } from "./types.ts";

export type { RuntimeAdapter, RuntimeName, SocketHandler, WireSocket, Listening } from "./types.ts";

/** The runtime this process is on. */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** Load only the adapter for this runtime (each imports runtime-specific modules). */
export async function createAdapter(app: Hono, runtime: RuntimeName = detectRuntime()): Promise<RuntimeAdapter> {
  switch (runtime) {
    case "bun":
      return (await import("./bun.ts")).createBunAdapter(app);
    case "deno":
      return (await import("./deno.ts")).createDenoAdapter(app);
    case "node":
      return (await import("./node.ts")).createNodeAdapter(app);
  }
}
