import { defineCommand } from "citty";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";

/** `clawdis gateway call`: raw method invoker for debugging. */
export default defineCommand({
  meta: {
    name: "call",
    description:
      "Call any gateway method with raw JSON params and print the payload.\n\n" +
      "Examples:\n" +
      "  clawdis gateway call health\n" +
      `  clawdis gateway call system-event --params '{"text":"deploy done","tags":["ci"]}'`,
  },
  args: {
    method: { type: "positional", description: "Method name", required: true },
    params: { type: "string", description: "Params as a JSON object" },
    ...connectArgs,
  },
  run: ({ args }) =>
    handled(async () => {
      let params: unknown;
      if (args.params !== undefined) {
        try {
          params = JSON.parse(args.params);
        } catch (err) {
          throw new CliExit(Exit.USAGE, `--params: not valid JSON (${(err as Error).message}); quote it, e.g. --params '{"k":"v"}'`);
        }
      }
      const { withClient } = await import("./connect.ts");
      await withClient(args, async (client) => {
        // Raw on purpose: the gateway validates the method and params and names what is wrong.
        const payload = await client.request(args.method as never, params as never);
        console.log(JSON.stringify(payload, null, 2));
      });
    }),
});
