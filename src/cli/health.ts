import { defineCommand } from "citty";
import { handled } from "./errors.ts";

/** `clawdis health`: ask the running gateway for its health snapshot. */
export default defineCommand({
  meta: {
    name: "health",
    description:
      "Print the running gateway's health (exit 0 when ok).\n\n" +
      "Examples:\n" +
      "  clawdis health\n" +
      "  clawdis health --json\n" +
      "  clawdis health --url ws://127.0.0.1:18789 --token s3cret",
  },
  args: {
    json: { type: "boolean", description: "Print the raw health object" },
    url: { type: "string", description: "Gateway URL (default ws://127.0.0.1:18789)" },
    token: { type: "string", description: "Gateway token (or CLAWDIS_GATEWAY_TOKEN)" },
    timeout: { type: "string", description: "Timeout in ms (default 10000)" },
  },
  run: ({ args }) =>
    handled(async () => {
    const { withClient } = await import("./connect.ts");
    await withClient(args, async (client) => {
      const health = await client.request("health");
      if (args.json) {
        console.log(JSON.stringify(health, null, 2));
        return;
      }
      const agent = health.agent.backend;
      console.log(`gateway: ${health.ok ? "ok" : "NOT ok"} (up ${Math.round(health.uptimeMs / 1000)} s)`);
      console.log(`whatsapp: ${health.web.linked ? "linked" : "not linked"}${health.web.connected ? ", connected" : ""}`);
      console.log(`telegram: ${health.telegram.configured ? "configured" : "not configured"}`);
      console.log(`agent: ${agent}`);
    });
    }),
});
