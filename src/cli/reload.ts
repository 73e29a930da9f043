import { askCommand } from "./ask.ts";
import { CliExit, Exit } from "./errors.ts";

/** `clawdis gateway reload`: the running gateway re-reads its config (like SIGHUP). */
export default askCommand(
  {
    name: "reload",
    description:
      "Make the running gateway re-read its config file without dropping connections (same as SIGHUP).\n" +
      "An invalid file is refused whole: the running config stays and every problem is printed (exit 1).\n\n" +
      "Examples:\n  clawdis gateway reload\n  clawdis gateway reload --json",
  },
  "config.reload",
  (r) =>
    r.applied
      ? [
          `config reloaded from ${r.file ?? "embedded defaults"}`,
          `applied: ${r.changed.length > 0 ? r.changed.join(", ") : "nothing changed"}`,
          ...(r.restartRequired.length > 0 ? [`restart required for: ${r.restartRequired.join(", ")}`] : []),
          ...(r.warnings ?? []).map((w) => `warning: ${w}`),
        ].join("\n")
      : `config refused; the running config stays:\n  ${(r.problems ?? []).join("\n  ")}`,
  (r) => {
    if (!r.applied) throw new CliExit(Exit.FAILURE, "config reload refused");
  },
);
