import { GatewayError, type ProviderName, type SendResult } from "../protocol/index.ts";
import type { ProviderSendParams } from "../providers/index.ts";
import { MAX_REPLY_MEDIA, parseReplyMedia, resolveReplyMedia } from "./reply-media.ts";
import type { SendLedger } from "./types.ts";

/** A send as delivery takes it: `markdown` marks an agent's reply, rendered for the network (`<provider>.format`). */
export type DeliverySend = ProviderSendParams & { markdown?: boolean };

export interface ReplyDeps {
  send: (params: DeliverySend) => Promise<SendResult>;
  ledger: Pick<SendLedger, "create" | "byIdempotencyKey">;
  /** `agent.mediaDirs` in force. */
  mediaDirs: readonly string[];
}

/**
 * An agent's reply to a chat: its text (Markdown, rendered per network) under `key`,
 * then each `MEDIA:` file as its own send (`<key>:media:<n>`; under `key` itself when the
 * reply is nothing but files). A file refused (a path outside `agent.mediaDirs`, a
 * scheme other than http(s)) gets a `skipped` record with the reason and is not sent; the
 * text still goes. Resolves with the first send's result; the first failure rejects.
 */
export async function sendReply(deps: ReplyDeps, base: Omit<ProviderSendParams, "message">, reply: string): Promise<SendResult> {
  const { text, refs } = parseReplyMedia(reply);
  const key = base.idempotencyKey;
  const where = { ...(base.provider ? { provider: base.provider } : {}), to: base.to };
  const files: (Omit<ProviderSendParams, "message" | "idempotencyKey"> & { n: number })[] = [];
  const refused: string[] = [];
  for (const [i, ref] of refs.entries()) {
    const refusedKey = `${key}:media:${i + 1}`;
    const src = i < MAX_REPLY_MEDIA ? await resolveReplyMedia(ref, deps.mediaDirs) : { refused: `MEDIA: ${ref}: more than ${MAX_REPLY_MEDIA} files in one reply` };
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
    sends.push({ ...f, message: "", idempotencyKey: first ? key : `${key}:media:${n}`, ...(first && base.replyTo ? { replyTo: base.replyTo } : {}) });
  }
  let result: SendResult | undefined;
  for (const s of sends) {
    const r = await deps.send(s);
    result ??= r;
  }
  return result!;
}
