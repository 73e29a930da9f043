import { Hono } from "hono";
import type { RuntimeAdapter, RuntimeName } from "./types.ts";

export type { RuntimeAdapter, RuntimeName, SocketHandler, WireSocket, Listening } from "./types.ts";

// `--define __CLAWDIS_RUNTIME__='"bun"'` in build/compile.ts: a build for one runtime only.
// Compared inline (not through a helper) so the bundler folds it and drops the other
// adapters and their imports (@hono/node-server, ws) from the Bun binary as dead code.
declare const __CLAWDIS_RUNTIME__: RuntimeName | undefined;

/** The runtime this process is on. */
export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** Load only the adapter for this runtime (each imports runtime-specific modules). */
export async function createAdapter(app: Hono, runtime: RuntimeName = detectRuntime()): Promise<RuntimeAdapter> {
  if (typeof __CLAWDIS_RUNTIME__ === "string" && __CLAWDIS_RUNTIME__ === "bun") {
    return (await import("./bun.ts")).createBunAdapter(app);
  } else {
    switch (runtime) {
      case "bun":
        return (await import("./bun.ts")).createBunAdapter(app);
      case "deno":
        return (await import("./deno.ts")).createDenoAdapter(app);
      case "node":
        return (await import("./node.ts")).createNodeAdapter(app);
    }
  }
}

/** A hono app on this runtime's adapter, its routes added by `mount` (given the adapter for WebSocket upgrades). */
export async function serveApp<D>(mount: (app: Hono, adapter: RuntimeAdapter, deps: D) => unknown, deps: D, runtime?: RuntimeName): Promise<RuntimeAdapter> {
  const app = new Hono();
  const adapter = await createAdapter(app, runtime);
  mount(app, adapter, deps);
  return adapter;
}
