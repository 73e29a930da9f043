import type { Health } from "../protocol/index.ts";
import { visible } from "../core/visible.ts";
import { askCommand } from "./ask.ts";

export function describeHealth(health: Health): string {
  return [
    `gateway: ${health.ok ? "ok" : "NOT ok"} (up ${Math.round(health.uptimeMs / 1000)} s)`,
    `whatsapp: ${health.web.linked ? "linked" : "not linked"}${health.web.connected ? ", connected" : ""}`,
    `telegram: ${health.telegram.configured ? "configured" : "not configured"}`,
    `agent: ${health.agent.backend}`,
    // Why it is not ok, when the gateway knows: the disk, a service the network cannot reach.
    ...[health.disk?.message, health.web.lastError, health.telegram.connected === false ? health.telegram.lastError : undefined].filter((m): m is string => typeof m === "string").map((m) => `  ${visible(m)}`),
  ].join("\n");
}

/** `clawdis health` / `clawdis gateway health`: the running gateway's health snapshot. */
export default askCommand(
  {
    name: "health",
    description:
      "Print the running gateway's health (exit 0 when it answers).\n\n" +
      "Examples:\n" +
      "  clawdis gateway health\n" +
      "  clawdis health --json\n" +
      "  clawdis health --url ws://127.0.0.1:18789 --token s3cret",
  },
  "health",
  describeHealth,
);
