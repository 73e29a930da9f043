import { defineCommand } from "citty";
import type { MethodResult, PairingApproved, PairingRequest, ProviderName } from "../protocol/index.ts";
import { askCommand } from "./ask.ts";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";
import { visible } from "../core/visible.ts";

function providerArg(raw: string): ProviderName {
  if (raw !== "whatsapp" && raw !== "telegram") throw new CliExit(Exit.USAGE, `<provider>: expected whatsapp or telegram, got ${JSON.stringify(raw)}`);
  return raw;
}

export function describeRequests(requests: PairingRequest[], now = Date.now()): string {
  if (requests.length === 0) return "no pairing requests waiting";
  return requests
    .map((r) => `${r.provider}  ${visible(r.code)}  ${visible(r.sender)}${r.name ? ` (${visible(r.name)})` : ""}  expires in ${Math.max(0, Math.round((r.expiresAt - now) / 60_000))} min`)
    .join("\n");
}

export function describeApproved(approved: PairingApproved[]): string {
  if (approved.length === 0) return "no senders approved through pairing";
  return approved
    .map((a) => {
      const also = (a.ids ?? []).filter((id) => id !== a.sender).map((id) => visible(id));
      return `${a.provider}  ${visible(a.sender)}${a.name ? ` (${visible(a.name)})` : ""}${also.length ? `  also ${also.join(", ")}` : ""}  approved ${new Date(a.approvedAt).toISOString()} (code ${visible(a.code)})`;
    })
    .join("\n");
}

/** list and approved: no arguments, a bare array, printed as lines. */
const listing = <M extends "pairing.list" | "pairing.approved">(method: M, description: string, human: (res: MethodResult<M>) => string) => {
  const name = method.slice("pairing.".length);
  return askCommand({ name, description: `${description}\n\nExamples:\n  clawdis pairing ${name}\n  clawdis pairing ${name} --json` }, method, human);
};

const list = listing("pairing.list", 'Strangers waiting for a decision (dmPolicy "pairing"), oldest first.', describeRequests);
const approved = listing("pairing.approved", 'Senders approved through pairing (they start runs under dmPolicy "pairing"), oldest first.', describeApproved);

type OnSender = "pairing.approve" | "pairing.reject" | "pairing.revoke";

/**
 * approve, reject and revoke: `<provider> <what>` (a code, or a sender), one request,
 * one sentence. `what` names both the positional and the request's parameter.
 */
const onSender = <M extends OnSender>(
  method: M,
  what: { name: "code" | "sender"; description: string },
  description: string,
  example: string,
  human: (res: MethodResult<M>) => string,
) => {
  const name = method.slice("pairing.".length);
  return defineCommand({
    meta: { name, description: `${description}\n\nExamples:\n${example.split("\n").map((e) => `  clawdis pairing ${name} ${e}`).join("\n")}` },
    args: {
      provider: { type: "positional", description: "whatsapp | telegram", required: true },
      [what.name]: { type: "positional", description: what.description, required: true },
      ...connectArgs,
    },
    run: ({ args }) =>
      handled(async () => {
        const provider = providerArg(args.provider as string);
        const { withClient, print } = await import("./connect.ts");
        await withClient(args, async (client) => {
          const params = { provider, [what.name]: (args as Record<string, unknown>)[what.name] as string };
          const res = await client.request(method, params as never);
          print(args.json as boolean | undefined, res, () => human(res as MethodResult<M>));
        });
      }),
  });
};

const code = { name: "code", description: "The 8-character code the sender was given" } as const;
const decided = (verb: string) => (res: { sender: string; provider: string; code: string }) => `${verb} ${visible(res.sender)} on ${res.provider} (code ${visible(res.code)})`;

const revoke = onSender(
  "pairing.revoke",
  { name: "sender", description: "The sender as `clawdis pairing approved` shows it (WhatsApp: a JID, a LID or +phone)" },
  "Take an approval back: the sender is a stranger again from their next message.",
  "telegram 123456789\nwhatsapp +15551234567",
  (res) => `revoked ${visible(res.sender)} on ${res.provider}: a stranger again from their next message`,
);

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
    approve: onSender("pairing.approve", code, "Let the sender of <code> start runs from now on.", "telegram ABCD2345", decided("approved")),
    reject: onSender("pairing.reject", code, "Drop the request of <code>; the sender gets nothing.", "telegram ABCD2345", decided("rejected")),
  },
});
