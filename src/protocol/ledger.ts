import * as v from "valibot";
import { count, PROVIDERS, text, timestamp } from "./common.ts";

/** `interrupted`: a send cut off mid-flight (outcome unknown, never sent again), or a message whose run was cut by shutdown (answered after the restart). */
export const LEDGER_STATUSES = ["received", "replied", "queued", "sending", "sent", "skipped", "duplicate", "failed", "interrupted"] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/** A file that came with an inbound message, saved under `<state>/media/inbound/`. */
export const InboundMediaSchema = v.object({
  kind: v.picklist(["image", "audio", "video", "document"]),
  mime: v.string(),
  bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
  path: v.string(),
});
export type InboundMedia = v.InferOutput<typeof InboundMediaSchema>;

/** One message's record: what happened to it and why. */
export const LedgerRecordSchema = v.object({
  id: v.string(),
  ts: timestamp(),
  updatedAt: timestamp(),
  direction: v.picklist(["inbound", "outbound"]),
  provider: v.picklist(PROVIDERS),
  chat: v.string(),
  providerMessageId: v.optional(v.string()),
  status: v.picklist(LEDGER_STATUSES),
  reason: v.optional(v.string()),
  runId: v.optional(v.string()),
  idempotencyKey: v.optional(v.string()),
  /** A long reply sent as several messages: this record's place (1-based) and the count. */
  part: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  parts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** Outbound: how many times the provider was asked to send this part (more than 1: retried after a transient error). */
  attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  /** Outbound: the last error a send attempt met (kept after a retry succeeded). */
  lastError: v.optional(v.string()),
  /** Inbound: the files saved from the message (what the agent was given). */
  media: v.optional(v.array(InboundMediaSchema)),
  /** Inbound: what the message was when it held no text or file (`location`, `contact`, `sticker`, `poll`); the agent got its placeholder. */
  kind: v.optional(v.string()),
  /** Only with `ledger.storeText: true`. */
  text: v.optional(v.string()),
  /** Inbound: the message was a chat command (`/new`, `/stop`, `/status`, `/help`), answered by the gateway. */
  command: v.optional(v.string()),
  /** Inbound: the tools its run called (`args` and `result` only with `ledger.storeText: true`). */
  tools: v.optional(
    v.array(
      v.object({
        name: v.string(),
        ok: v.boolean(),
        ms: v.pipe(v.number(), v.minValue(0)),
        args: v.optional(v.unknown()),
        result: v.optional(v.string()),
      }),
    ),
  ),
});
export type LedgerRecord = v.InferOutput<typeof LedgerRecordSchema>;

export const LedgerListParamsSchema = v.object({
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000))),
  /** Records updated at or after this time (ms since epoch). */
  since: v.optional(count()),
  status: v.optional(v.picklist(LEDGER_STATUSES)),
  direction: v.optional(v.picklist(["inbound", "outbound"])),
});
export const LedgerListResultSchema = v.object({ records: v.array(LedgerRecordSchema) });
export const LedgerGetParamsSchema = v.object({ id: text(128) });
export const LedgerGetResultSchema = v.object({
  record: LedgerRecordSchema,
  /** Records on the same path: the inbound message, its run's reply, and so on. */
  related: v.array(LedgerRecordSchema),
});
