import type { UrlPolicy } from "../media/index.ts";
import { GatewayError, type ProviderName, type SendResult } from "../protocol/index.ts";
import type { ProviderSendParams } from "../providers/index.ts";
import { SendMediaError } from "../providers/media.ts";
import { MAX_REPLY_MEDIA, parseReplyMedia, resolveReplyMedia } from "./reply-media.ts";
import type { SendLedger } from "./types.ts";

/**
 * A send as delivery takes it: `markdown` marks an agent's reply, rendered for the network
 * (`<provider>.format`); `mediaOptional` an agent's `MEDIA:` file, whose file failing to
 * fetch or read ends its record `skipped` (with the reason), not `failed`.
 */
export type DeliverySend = ProviderSendParams & { markdown?: boolean; mediaOptional?: boolean };

export interface ReplyDeps {
  send: (params: DeliverySend) => Promise<SendResult>;
  ledger: Pick<SendLedger, "create" | "byIdempotencyKey">;
  /** `agent.mediaDirs` in force. */
  mediaDirs: readonly string[];
  /** `media.allowPrivateUrls` / `media.allowUrlHosts` in force: `MEDIA:` URLs are checked by them before anything is queued. */
  urls?: UrlPolicy;
}

/**
 * An agent's reply to a chat: its text (Markdown, rendered per network) under `key`,
 * then each `MEDIA:` file as its own send (`<key>:media:<n>`; under `key` itself when the
 * reply is nothing but files). A file refused (a path outside `agent.mediaDirs`, a
 * scheme other than http(s), a URL the media URL guard refuses) gets a `skipped` record
 * with the reason and is not sent; so does one that cannot be fetched or read when its
 * turn comes (a 404, a type or size not sendable). The text still goes, and the reply
 * counts as delivered. Resolves with the first sent message's result; any other failure rejects.
 */
export async function sendReply(deps: ReplyDeps, base: Omit<ProviderSendParams, "message">, reply: string): Promise<SendResult> {
  const { text, refs } = parseReplyMedia(reply);
  const key = base.idempotencyKey;
  const where = { ...(base.provider ? { provider: base.provider } : {}), to: base.to };
  const files: (Omit<ProviderSendParams, "message" | "idempotencyKey"> & { n: number })[] = [];
  const refused: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const refusedKey = `${key}:media:${i + 1}`;
    const src = i < MAX_REPLY_MEDIA ? await resolveReplyMedia(ref, deps.mediaDirs, deps.urls) : { refused: `MEDIA: ${ref}: more than ${MAX_REPLY_MEDIA} files in one reply` };
    if ("refused" in src) {
      refused.push(src.refused);
      if (!deps.ledger.byIdempotencyKey(refusedKey)) {
        const provider: ProviderName = base.provider ?? "whatsapp";
        await deps.ledger.create({ direction: "outbound", provider, chat: base.to, idempotencyKey: refusedKey, status: "skipped", reason: src.refused });
      }
      continue;
    }
    files.push({ ...where, ...src, n: i + 1 });
  }
  if (text.trim() === "" && files.length === 0) {
    throw new GatewayError("INVALID_REQUEST", `nothing was sent: the reply held only files, all refused (${refused.join("; ")})`);
  }
  const sends: DeliverySend[] = [];
  if (text.trim() !== "") sends.push({ ...base, message: text, markdown: true });
  for (const { n, ...f } of files) {
    const first = sends.length === 0;
    sends.push({ ...f, message: "", idempotencyKey: first ? key : `${key}:media:${n}`, mediaOptional: true, ...(first && base.replyTo ? { replyTo: base.replyTo } : {}) });
  }
  let result: SendResult | undefined;
  for (const s of sends) {
    // Skipped before (this reply delivered again): its file is not fetched again.
    const prior = s.mediaOptional ? deps.ledger.byIdempotencyKey(s.idempotencyKey) : undefined;
    if (prior?.status === "skipped") {
      refused.push(prior.reason ?? `MEDIA file ${s.idempotencyKey} skipped`);
      continue;
    }
    try {
      const r = await deps.send(s);
      result ??= r;
    } catch (err) {
      // Its record says `skipped` with the reason (src/delivery/pending.ts); the rest of the reply goes on.
      if (!(s.mediaOptional && err instanceof SendMediaError)) throw err;
      refused.push(err.message);
    }
  }
  if (!result) throw new GatewayError("INVALID_REQUEST", `nothing was sent: the reply held only files, none could be sent (${refused.join("; ")})`);
  return result;
}
