import { defineCommand } from "citty";
import { connectArgs } from "./connect.ts";
import { handled } from "./errors.ts";

/** `clawdis gateway status`: a short summary. */
export default defineCommand({
  meta: {
    name: "status",
    description:
      "Print a short summary of the running gateway.\n\nExamples:\n  clawdis gateway status\n  clawdis gateway status --json",
  },
  args: connectArgs,
  run: ({ args }) =>
    handled(async () => {
      const { withClient, print } = await import("./connect.ts");
      await withClient(args, async (client) => {
        const s = await client.request("status");
        print(args.json, s, () =>
          [
            `clawdis ${s.version} (${s.commit}) on ${s.host}, up ${Math.round(s.uptimeMs / 1000)} s`,
            `linked: ${s.linked.length > 0 ? s.linked.join(", ") : "none"}`,
            `clients: ${s.clients}`,
            `agent: ${s.agent.backend} (${s.agent.running} running)`,
          ].join("\n"),
        );
      });
    }),
});
