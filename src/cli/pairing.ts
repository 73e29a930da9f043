import { defineCommand } from "citty";
import type { MethodResult, PairingApproved, PairingRequest, ProviderName } from "../protocol/index.ts";
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

export function describeApproved(approved: PairingApproved[]): string {
  if (approved.length === 0) return "no senders approved through pairing";
  return approved
    .map((a) => {
      const also = (a.ids ?? []).filter((id) => id !== a.sender);
      return `${a.provider}  ${a.sender}${a.name ? ` (${a.name})` : ""}${also.length ? `  also ${also.join(", ")}` : ""}  approved ${new Date(a.approvedAt).toISOString()} (code ${a.code})`;
    })
    .join("\n");
}

const revoke = defineCommand({
  meta: {
    name: "revoke",
    description:
      "Take an approval back: the sender is a stranger again from their next message.\n\n" +
      "Examples:\n" +
      "  clawdis pairing revoke telegram 123456789\n" +
      "  clawdis pairing revoke whatsapp +15551234567",
  },
  args: {
    provider: { type: "positional", description: "whatsapp | telegram", required: true },
    sender: { type: "positional", description: "The sender as `clawdis pairing approved` shows it (WhatsApp: a JID, a LID or +phone)", required: true },
    ...connectArgs,
  },
  run: ({ args }) =>
    handled(async () => {
      const provider = providerArg(args.provider);
      const { withClient, print } = await import("./connect.ts");
      await withClient(args, async (client) => {
        const res = await client.request("pairing.revoke", { provider, sender: args.sender });
        print(args.json, res, () => `revoked ${res.sender} on ${res.provider}: a stranger again from their next message`);
      });
    }),
});

/** list and approved: no arguments, a bare array, printed as lines. */
const listing = <M extends "pairing.list" | "pairing.approved">(method: M, description: string, human: (res: MethodResult<M>) => string) => {
  const name = method.slice("pairing.".length);
  return askCommand({ name, description: `${description}\n\nExamples:\n  clawdis pairing ${name}\n  clawdis pairing ${name} --json` }, method, human);
};

const list = listing("pairing.list", 'Strangers waiting for a decision (dmPolicy "pairing"), oldest first.', describeRequests);
const approved = listing("pairing.approved", 'Senders approved through pairing (they start runs under dmPolicy "pairing"), oldest first.', describeApproved);

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
      "  clawdis pairing reject whatsapp ABCD2345\n" +
      "  clawdis pairing approved\n" +
      "  clawdis pairing revoke telegram 123456789",
  },
  subCommands: {
    list,
    approved,
    revoke,
    approve: decision("pairing.approve", "approved", "Let the sender of <code> start runs from now on"),
    reject: decision("pairing.reject", "rejected", "Drop the request of <code>; the sender gets nothing"),
  },
});
