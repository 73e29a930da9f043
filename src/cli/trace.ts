import { defineCommand } from "citty";
import type { LedgerRecord } from "../protocol/index.ts";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";

function line(r: LedgerRecord, t0?: number): string {
  const when = t0 === undefined ? new Date(r.updatedAt).toISOString() : `+${r.ts - t0} ms`.padStart(10);
  const arrow = r.direction === "inbound" ? "←" : "→";
  const extra = [r.runId ? `run ${r.runId}` : "", r.providerMessageId ? `msg ${r.providerMessageId}` : "", r.reason ? `(${r.reason})` : ""]
    .filter(Boolean)
    .join(" ");
  return `${when}  ${arrow} ${r.provider} ${r.chat}  ${r.status.padEnd(9)} ${r.id}${extra ? `  ${extra}` : ""}`;
}

/** `clawdis gateway trace`: what happened to messages, from the gateway's ledger. */
export default defineCommand({
  meta: {
    name: "trace",
    description:
      "Show the message ledger: the last messages, or one message's path (received → agent run → reply sent).\n\n" +
      "Examples:\n" +
      "  clawdis gateway trace --last 20\n" +
      "  clawdis gateway trace mwx1f2a-3kq9z\n" +
      "  clawdis gateway trace --json",
  },
  args: {
    id: { type: "positional", description: "Ledger record id", required: false },
    last: { type: "string", description: "How many recent records (default 20)" },
    ...connectArgs,
  },
  run: ({ args }) =>
    handled(async () => {
      const limit = Number(args.last ?? 20);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new CliExit(Exit.USAGE, `--last: expected an integer 1–1000, got ${JSON.stringify(args.last)}`);
      }
      const { withClient, print } = await import("./connect.ts");
      await withClient(args, async (client) => {
        if (args.id) {
          const res = await client.request("ledger.get", { id: args.id });
          const path = [res.record, ...res.related].sort((a, b) => a.ts - b.ts);
          print(args.json, res, () => path.map((r) => line(r, path[0]!.ts)).join("\n"));
          return;
        }
        const res = await client.request("ledger.list", { limit });
        print(args.json, res, () => (res.records.length ? res.records.map((r) => line(r)).join("\n") : "the ledger is empty"));
      });
    }),
});
