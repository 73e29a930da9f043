import { downloadContentFromMessage, jidNormalizedUser, normalizeMessageContent, type DownloadableMessage, type MediaType, type WAMessage } from "@whiskeysockets/baileys";
import type { Logger } from "../../log.ts";
import { takeMedia, type InboundMediaSink, type MediaCandidate, type UrlPolicy } from "../../media/index.ts";
import { GatewayError, type SendResult } from "../../protocol/index.ts";
import type { InboundMessage, ProviderSendParams } from "../types.ts";
import { classifyWaSend, waMessageId } from "./errors.ts";
import { toInbound, type WaMe } from "./inbound.ts";
import type { WaNames } from "./names.ts";
import { messageContent, type RecentInbound, type RegisteredCache } from "./outbox.ts";
import type { SentStore } from "./sent-store.ts";
import { toJid, type WaSocketLike } from "./socket.ts";

/**
 * Fetch and decrypt a message's media: Baileys' `downloadContentFromMessage` (WhatsApp's
 * media servers). The provider's seam: tests hand in the same decryption against a local server.
 */
export type WaDownload = (content: DownloadableMessage, type: MediaType) => Promise<AsyncIterable<Uint8Array>>;

export const defaultDownload: WaDownload = (content, type) => downloadContentFromMessage(content, type);

const long = (n: number | { toNumber(): number } | null | undefined) => (n == null ? undefined : typeof n === "number" ? n : n.toNumber());

/** The file a message holds (photo, voice note/audio, video, document), or undefined. */
function waMediaCandidate(m: WAMessage, download: WaDownload): MediaCandidate | undefined {
  const c = normalizeMessageContent(m.message);
  if (!c) return undefined;
  const pick = (): { content: DownloadableMessage & { mimetype?: string | null; fileLength?: unknown; fileName?: string | null }; type: MediaType; kind: MediaCandidate["kind"]; mime: string } | undefined => {
    if (c.imageMessage) return { content: c.imageMessage, type: "image", kind: "image", mime: c.imageMessage.mimetype ?? "image/jpeg" };
    if (c.audioMessage) return { content: c.audioMessage, type: "audio", kind: "audio", mime: c.audioMessage.mimetype ?? "audio/ogg" };
    if (c.videoMessage) return { content: c.videoMessage, type: "video", kind: "video", mime: c.videoMessage.mimetype ?? "video/mp4" };
    if (c.ptvMessage) return { content: c.ptvMessage, type: "video", kind: "video", mime: c.ptvMessage.mimetype ?? "video/mp4" };
    if (c.documentMessage) return { content: c.documentMessage, type: "document", kind: "document", mime: c.documentMessage.mimetype ?? "application/octet-stream" };
    return undefined;
  };
  const p = pick();
  if (!p || !p.content.mediaKey) return undefined;
  const size = long(p.content.fileLength as never);
  return {
    kind: p.kind,
    mime: p.mime,
    ...(size !== undefined ? { size } : {}),
    ...(p.content.fileName ? { name: p.content.fileName } : {}),
    open: async (_max, signal) => {
      const stream = await download(p.content, p.type);
      const destroy = () => (stream as { destroy?: (err?: Error) => void }).destroy?.();
      // Timed out while the download was starting: nobody reads this stream, so end it now.
      if (signal.aborted) {
        destroy();
        throw signal.reason;
      }
      return { chunks: stream, cancel: destroy };
    },
  };
}

/**
 * One send: text or media; `replyTo` quotes the message it answers when it is still
 * in the recent-inbound cache (else the reply goes out unquoted). Its message id comes
 * from its idempotency key, so a retried send is one message to WhatsApp. A phone number that is
 * not on WhatsApp is refused rather than "sent" into the void.
 */
export async function sendWa(
  sock: WaSocketLike,
  params: ProviderSendParams,
  caches: { registered: RegisteredCache; recentSent: Pick<SentStore, "add">; recentInbound: RecentInbound; expiration?: (jid: string) => number | undefined; mediaUrls?: UrlPolicy },
): Promise<SendResult> {
  const jid = toJid(params.to);
  if (jid.endsWith("@s.whatsapp.net") && sock.onWhatsApp && !(await caches.registered.check(jid, (j) => sock.onWhatsApp!(j)))) {
    throw new GatewayError("INVALID_REQUEST", `to: ${params.to} is not on WhatsApp`, { details: { field: "params.to" } });
  }
  const content = await messageContent(params, caches.mediaUrls);
  const quoted = params.replyTo ? caches.recentInbound.get(params.replyTo) : undefined;
  // A reply in a disappearing chat disappears like the rest (issue 21 §7); a stable id from the
  // idempotency key makes a retried part one WhatsApp drops as a repeat (issue 21 §2).
  const ephemeralExpiration = caches.expiration?.(jid);
  const options = { messageId: waMessageId(params.idempotencyKey), ...(quoted ? { quoted } : {}), ...(ephemeralExpiration ? { ephemeralExpiration } : {}) };
  const sent = await sock.sendMessage(jid, content, options).catch((err: unknown) => {
    throw classifyWaSend(err);
  });
  caches.recentSent.add(sent?.key, sent?.message);
  return { provider: "whatsapp", to: jid, messageId: sent?.key.id ?? "", ts: Date.now() };
}

/**
 * An upserted message as the gateway takes it: read (LIDs mapped to phone numbers
 * through the socket's store). A file is not fetched here: `fetchMedia` downloads and
 * saves it (within `timeoutMs`), and the gateway calls it only for a message it will
 * answer; a failed download is logged and recorded, the text still goes on. Null when
 * there is nothing to act on.
 */
export async function readInbound(
  sock: WaSocketLike,
  m: WAMessage,
  type: string,
  me: WaMe,
  media: { sink: InboundMediaSink; download: WaDownload; timeoutMs?: number } | undefined,
  log: Logger,
  names?: WaNames,
): Promise<InboundMessage | null> {
  const pnForLid = async (lid: string) => {
    const pn = await sock.signalRepository?.lidMapping.getPNForLID(lid);
    return pn ? jidNormalizedUser(pn) : null;
  };
  names?.learn([me.id, me.lid], me.name);
  names?.learn([m.key.participant || m.key.remoteJid, m.key.participantAlt, m.key.remoteJidAlt], m.pushName);
  const msg = await toInbound(m, type, pnForLid, me, names ? (j) => names.get(j) : undefined);
  if (!msg) return null;
  const file = media && !msg.refused ? waMediaCandidate(m, media.download) : undefined;
  if (file) {
    msg.fetchMedia = () =>
      takeMedia(media!.sink, file, media!.timeoutMs).catch((err: Error) => {
        log.warn("whatsapp: could not download a message's file; the text goes on", { id: m.key.id, error: err.message });
        return { mediaSkipped: `media not downloaded: ${err.message}` };
      });
  }
  return msg.text || msg.fetchMedia || msg.extras ? msg : null;
}
