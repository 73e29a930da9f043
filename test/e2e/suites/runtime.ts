import type { Target } from "../../helpers/gateway.ts";

export type { Target } from "../../helpers/gateway.ts";

/** The runtime a target runs the gateway on (the binary and `source` are Bun). */
export function runtimeOf(target: Target): "bun" | "node" | "deno" {
  return target === "binary" || target === "source" ? "bun" : target;
}
