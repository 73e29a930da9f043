import * as v from "valibot";
import { PROVIDERS, text, timestamp } from "./common.ts";

/** A stranger's request to talk to the assistant, waiting for the owner's decision. */
export const PairingRequestSchema = v.object({
  provider: v.picklist(PROVIDERS),
  /** 8 characters from an alphabet without look-alikes (no 0/O, 1/I). */
  code: v.string(),
  /** The sender's id (Telegram user id, WhatsApp JID). */
  sender: v.string(),
  name: v.optional(v.string()),
  createdAt: timestamp(),
  expiresAt: timestamp(),
});
export type PairingRequest = v.InferOutput<typeof PairingRequestSchema>;

/** `pairing.list`: the live requests of every provider, oldest first (a bare array, as issue 16 specifies). */
export const PairingListResultSchema = v.array(PairingRequestSchema);

/** `pairing.approve` / `pairing.reject`: codes are matched without regard to case. */
export const PairingDecideParamsSchema = v.object({
  provider: v.picklist(PROVIDERS),
  code: text(32),
});
export type PairingDecideParams = v.InferOutput<typeof PairingDecideParamsSchema>;

/** `pairing.reject`: the request turned away. */
export const PairingRejectResultSchema = v.object({
  provider: v.picklist(PROVIDERS),
  code: v.string(),
  sender: v.string(),
});
/** `pairing.approve`: the same, and when. */
export const PairingApproveResultSchema = v.object({ ...PairingRejectResultSchema.entries, approvedAt: timestamp() });

/** A sender let in through `pairing.approve` (kept until `pairing.revoke`). */
export const PairingApprovedSchema = v.object({
  provider: v.picklist(PROVIDERS),
  /** The id the approval was made for (Telegram user id, WhatsApp JID). */
  sender: v.string(),
  /** Every id the sender is known by (WhatsApp: phone JID and LID); absent when only `sender`. */
  ids: v.optional(v.array(v.string())),
  name: v.optional(v.string()),
  /** The code that was approved. */
  code: v.string(),
  approvedAt: timestamp(),
});
export type PairingApproved = v.InferOutput<typeof PairingApprovedSchema>;

/** `pairing.approved`: the approved senders of every provider, oldest approval first (a bare array). */
export const PairingApprovedResultSchema = v.array(PairingApprovedSchema);

/** `pairing.revoke`: the sender by any id it is known by (WhatsApp also `+<phone>`). */
export const PairingRevokeParamsSchema = v.object({
  provider: v.picklist(PROVIDERS),
  sender: text(256),
});
export type PairingRevokeParams = v.InferOutput<typeof PairingRevokeParamsSchema>;

/** `pairing.revoke`: the approval that was removed. */
export const PairingRevokeResultSchema = PairingApprovedSchema;
