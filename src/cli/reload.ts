import { defineCommand } from "citty";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";

/** `clawdis gateway reload`: the running gateway re-reads its config (like SIGHUP). */
export default defineCommand({
  meta: {
    name: "reload",
    description:
      "Make the running gateway re-read its config file without dropping connections (same as SIGHUP).\n" +
      "An invalid file is refused whole: the running config stays and every problem is printed (exit 1).\n\n" +
      "Examples:\n  clawdis gateway reload\n  clawdis gateway reload --json",
  },
  args: connectArgs,
  run: ({ args }) =>
    handled(async () => {
      const { withClient, print } = await import("./connect.ts");
      await withClient(args, async (client) => {
        const r = await client.request("config.reload");
        print(args.json, r, () =>
          r.applied
            ? [
                `config reloaded from ${r.file ?? "embedded defaults"}`,
                `applied: ${r.changed.length > 0 ? r.changed.join(", ") : "nothing changed"}`,
                ...(r.restartRequired.length > 0 ? [`restart required for: ${r.restartRequired.join(", ")}`] : []),
                ...(r.warnings ?? []).map((w) => `warning: ${w}`),
              ].join("\n")
            : `config refused; the running config stays:\n  ${(r.problems ?? []).join("\n  ")}`,
        );
        if (!r.applied) throw new CliExit(Exit.FAILURE, "config reload refused");
      });
    }),
});
