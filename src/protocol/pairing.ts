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
export const PairingDecideParamsSchema = v.strictObject({
  provider: v.picklist(PROVIDERS),
  code: text(32),
});
export type PairingDecideParams = v.InferOutput<typeof PairingDecideParamsSchema>;

export const PairingApproveResultSchema = v.object({
  provider: v.picklist(PROVIDERS),
  code: v.string(),
  sender: v.string(),
  approvedAt: timestamp(),
});
export const PairingRejectResultSchema = v.object({
  provider: v.picklist(PROVIDERS),
  code: v.string(),
  sender: v.string(),
});
