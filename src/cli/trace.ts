import { defineCommand } from "citty";
import type { LedgerRecord } from "../protocol/index.ts";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";
import { visible } from "../core/visible.ts";

function line(r: LedgerRecord, t0?: number): string {
  const when = t0 === undefined ? new Date(r.updatedAt).toISOString() : `+${r.ts - t0} ms`.padStart(10);
  const arrow = r.direction === "inbound" ? "←" : "→";
  // Chat ids, provider ids and reasons come from the chat network (a reason may quote a message).
  const extra = [r.runId ? `run ${visible(r.runId)}` : "", r.providerMessageId ? `msg ${visible(r.providerMessageId)}` : "", r.reason ? `(${visible(r.reason)})` : ""]
    .filter(Boolean)
    .join(" ");
  // The message itself only when the ledger keeps text (ledger.storeText), clipped to one short line.
  const text = r.text !== undefined ? `  "${visible(r.text.length > 120 ? `${r.text.slice(0, 119)}…` : r.text)}"` : "";
  return `${when}  ${arrow} ${r.provider} ${visible(r.chat)}  ${r.status.padEnd(9)} ${visible(r.id)}${extra ? `  ${extra}` : ""}${text}`;
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
