import { defineCommand } from "citty";
import { CliExit, Exit, handled } from "./errors.ts";

const LEVELS = ["debug", "info", "warn", "error"] as const;
type Level = (typeof LEVELS)[number];

/** `10m`, `2h`, `30s`, `1d`, or an ISO date → the earliest timestamp (ms) to show. */
export function parseSince(raw: string, now = Date.now()): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(raw.trim());
  if (m) return now - Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new CliExit(Exit.USAGE, `--since: expected a duration like 10m, 2h, 1d or an ISO date, got ${JSON.stringify(raw)}`);
  return t;
}

/** `clawdis gateway logs`: the gateway's log file (rotated file first), concise or JSON; `--follow` tails it. */
export default defineCommand({
  meta: {
    name: "logs",
    description:
      "Print the gateway log (<state>/logs/gateway.log, the rotated gateway.log.1 first) in the daemon's one-line form.\n" +
      "Works without a running gateway; launchd users: this is your tail -f.\n\n" +
      "Examples:\n" +
      "  clawdis gateway logs --since 10m\n" +
      "  clawdis gateway logs --follow --level warn\n" +
      "  clawdis gateway logs --json | jq .msg",
  },
  args: {
    follow: { type: "boolean", alias: "f", description: "Keep printing new records as they are written (survives rotation)" },
    json: { type: "boolean", description: "Print the raw JSON records, one per line" },
    level: { type: "string", description: "Only records at this level or above: debug, info, warn, error" },
    since: { type: "string", description: "Only records newer than this: 10m, 2h, 1d, or an ISO date" },
  },
  run: ({ args }) =>
    handled(async () => {
      const level = (args.level ?? "debug") as Level;
      if (!LEVELS.includes(level)) throw new CliExit(Exit.USAGE, `--level: expected one of ${LEVELS.join(", ")}, got ${JSON.stringify(args.level)}`);
      const since = args.since !== undefined ? parseSince(args.since) : undefined;
      const { resolveStateDir, statePaths } = await import("../paths.ts");
      const { readLog, followLog } = await import("../logs/reader.ts");
      const file = statePaths(resolveStateDir()).gatewayLog;
      const opts = { minLevel: level, json: Boolean(args.json), ...(since !== undefined ? { since } : {}) };
      const out = (line: string) => process.stdout.write(`${line}\n`);
      const position = readLog(file, opts, out);
      if (!args.follow) {
        if (position === null) throw new CliExit(Exit.FAILURE, `no log at ${file}: has the gateway run with this state dir (CLAWDIS_STATE_DIR)?`);
        return;
      }
      await followLog(file, position, opts, out);
    }),
});
