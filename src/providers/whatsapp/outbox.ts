import type { WAMessage } from "@whiskeysockets/baileys";
import type { SendParams } from "../../protocol/index.ts";
import type { UrlPolicy } from "../../media/index.ts";
import { sendMedia } from "../media.ts";

/** A map that forgets its oldest entries past `max` and anything older than `ttlMs`. */
export class BoundedCache<V> {
  private readonly items = new Map<string, { value: V; at: number }>();
  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}
  get(key: string): V | undefined {
    const hit = this.items.get(key);
    if (!hit) return undefined;
    if (Date.now() - hit.at > this.ttlMs) {
      this.items.delete(key);
      return undefined;
    }
    return hit.value;
  }
  set(key: string, value: V): void {
    this.items.delete(key);
    this.items.set(key, { value, at: Date.now() });
    while (this.items.size > this.max) this.items.delete(this.items.keys().next().value!);
  }
}

/**
 * Messages received recently, by id, so a reply can quote the message it answers
 * (Baileys' `quoted` needs the whole WAMessage). Bounded: 500 messages, one day.
 */
export class RecentInbound {
  private readonly cache = new BoundedCache<WAMessage>(500, 86_400_000);
  add(m: WAMessage): void {
    if (m.key.id) this.cache.set(m.key.id, m);
  }
  get(id: string): WAMessage | undefined {
    return this.cache.get(id);
  }
}

/**
 * `onWhatsApp` answers, cached (1,000 numbers, 6 hours): a number's registration rarely
 * changes. Baileys lists only registered numbers; a failed lookup (no answer) is not a
 * "no" — the send goes ahead and nothing is cached.
 */
export class RegisteredCache {
  private readonly cache = new BoundedCache<boolean>(1_000, 6 * 3_600_000);
  async check(jid: string, lookup: (jid: string) => Promise<{ exists: unknown }[] | undefined>): Promise<boolean> {
    const known = this.cache.get(jid);
    if (known !== undefined) return known;
    const list = await lookup(jid).catch(() => undefined);
    if (!list) return true;
    const exists = list.some((hit) => Boolean(hit.exists));
    this.cache.set(jid, exists);
    return exists;
  }
}

/** The Baileys content for a send: text, or fetched media with the message as caption. */
export async function messageContent(params: SendParams & { mediaPath?: string }, mediaUrls?: UrlPolicy): Promise<Record<string, unknown>> {
  const media = await sendMedia(params, mediaUrls);
  if (!media) return { text: params.message };
  const data = Buffer.from(media.data);
  const caption = params.message || undefined;
  // No thumbnails: the image libraries Baileys would use do not load in the single binary.
  if (media.kind === "image") return { image: data, caption, mimetype: media.contentType, jpegThumbnail: "" };
  if (media.kind === "video") return { video: data, caption, mimetype: media.contentType, jpegThumbnail: "" };
  if (media.kind === "audio") return { audio: data, mimetype: media.contentType };
  return { document: data, caption, mimetype: media.contentType, fileName: media.fileName };
}
