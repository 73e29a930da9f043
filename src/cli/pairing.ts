import { defineCommand } from "citty";
import type { PairingRequest, ProviderName } from "../protocol/index.ts";
import { askCommand } from "./ask.ts";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";

function providerArg(raw: string): ProviderName {
  if (raw !== "whatsapp" && raw !== "telegram") throw new CliExit(Exit.USAGE, `<provider>: expected whatsapp or telegram, got ${JSON.stringify(raw)}`);
  return raw;
}

export function describeRequests(requests: PairingRequest[], now = Date.now()): string {
  if (requests.length === 0) return "no pairing requests waiting";
  return requests
    .map((r) => `${r.provider}  ${r.code}  ${r.sender}${r.name ? ` (${r.name})` : ""}  expires in ${Math.max(0, Math.round((r.expiresAt - now) / 60_000))} min`)
    .join("\n");
}

const list = askCommand(
  {
    name: "list",
    description:
      "Strangers waiting for a decision (dmPolicy \"pairing\"), oldest first.\n\n" +
      "Examples:\n" +
      "  clawdis pairing list\n" +
      "  clawdis pairing list --json",
  },
  "pairing.list",
  (res) => describeRequests(res),
);

/** approve and reject take the same arguments and differ in the method and the sentence. */
const decision = (method: "pairing.approve" | "pairing.reject", verb: string, description: string) =>
  defineCommand({
    meta: {
      name: method.slice("pairing.".length),
      description: `${description}.\n\nExamples:\n  clawdis pairing ${method.slice("pairing.".length)} telegram ABCD2345`,
    },
    args: {
      provider: { type: "positional", description: "whatsapp | telegram", required: true },
      code: { type: "positional", description: "The 8-character code the sender was given", required: true },
      ...connectArgs,
    },
    run: ({ args }) =>
      handled(async () => {
        const provider = providerArg(args.provider);
        const { withClient, print } = await import("./connect.ts");
        await withClient(args, async (client) => {
          const res = await client.request(method, { provider, code: args.code });
          print(args.json, res, () => `${verb} ${res.sender} on ${res.provider} (code ${res.code})`);
        });
      }),
  });

/** `clawdis pairing`: decide on strangers who asked to talk to the assistant. */
export default defineCommand({
  meta: {
    name: "pairing",
    description:
      "Strangers who wrote in private under dmPolicy \"pairing\" got a code; approve or reject them here.\n\n" +
      "Examples:\n" +
      "  clawdis pairing list\n" +
      "  clawdis pairing approve telegram ABCD2345\n" +
      "  clawdis pairing reject whatsapp ABCD2345",
  },
  subCommands: {
    list,
    approve: decision("pairing.approve", "approved", "Let the sender of <code> start runs from now on"),
    reject: decision("pairing.reject", "rejected", "Drop the request of <code>; the sender gets nothing"),
  },
});
