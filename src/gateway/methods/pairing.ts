import { welcomeApproved } from "../../inbound/approved.ts";
import { inboundDeps } from "../inbound.ts";
import type { Handler } from "./types.ts";

/** `pairing.list`: strangers waiting for a decision (`dmPolicy: "pairing"`), oldest first. */
export const pairingList: Handler<"pairing.list"> = (_params, { gw }) => gw.gate.pairing.list();

/** `pairing.approve`: the sender of the code may start runs from now on (no restart). */
export const pairingApprove: Handler<"pairing.approve"> = async (params, { gw }) => {
  const { provider, code, sender, approvedAt, held } = await gw.gate.pairing.approve(params.provider, params.code);
  gw.log.info("pairing approved", { provider, sender });
  // Told in their chat, and the message that got them the code answered (in the background: the answer may take a run).
  void welcomeApproved(inboundDeps(gw), provider, code, sender, held);
  return { provider, code, sender, approvedAt };
};

/** `pairing.reject`: drop the request; the sender gets nothing. */
export const pairingReject: Handler<"pairing.reject"> = async (params, { gw }) => {
  const out = await gw.gate.pairing.reject(params.provider, params.code);
  gw.log.info("pairing rejected", { provider: out.provider, sender: out.sender });
  return out;
};

/** `pairing.approved`: the senders approved so far, every provider, oldest first. */
export const pairingApproved: Handler<"pairing.approved"> = (_params, { gw }) => gw.gate.pairing.approvedList();

/** `pairing.revoke`: the approved sender is a stranger again from their next message. */
export const pairingRevoke: Handler<"pairing.revoke"> = async (params, { gw }) => {
  const out = await gw.gate.pairing.revoke(params.provider, params.sender);
  gw.log.info("pairing revoked", { provider: out.provider, sender: out.sender });
  return out;
};
