import { isJidNewsletter, isJidStatusBroadcast, type GroupMetadata, type WAMessage } from "@whiskeysockets/baileys";
import type { Logger } from "../../log.ts";
import { waExpiration } from "./kinds.ts";

/** A bounded map: oldest entries go first past `max`. */
function bounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value!);
}

const MAX_CHATS = 2_000;
/** Group metadata is refreshed on WhatsApp's own change events; this bounds how stale a missed one leaves it. */
/** How long a failed metadata lookup is remembered. */
const FAILED_TTL_MS = 10 * 60_000;
const GROUP_TTL_MS = 6 * 3_600_000;

/**
 * What the WhatsApp provider remembers per chat beyond one message (issue 21 §3, §7, §8):
 * the order messages are handed on in, each chat's disappearing-messages timer, and
 * group metadata for Baileys' `cachedGroupMetadata`; plus which JIDs the socket ignores.
 */
export class WaChatState {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly expirations = new Map<string, number>();
  private readonly groups = new Map<string, { at: number; meta: GroupMetadata }>();

  constructor(private readonly log: Logger) {}

  /**
   * Run `step` after the earlier steps of `chat` (arrival order, also within one upsert):
   * a message is handed on only after the one before it was, whatever its lookups cost.
   */
  inOrder(chat: string, step: () => Promise<void>): void {
    const next = (this.chains.get(chat) ?? Promise.resolve()).then(step, step);
    this.chains.set(chat, next);
    void next.finally(() => {
      if (this.chains.get(chat) === next) this.chains.delete(chat);
    });
  }

  /** Remember the chat's disappearing timer from any message that states it (0 turns it off). */
  noteExpiration(m: WAMessage): void {
    const chat = m.key.remoteJid;
    const exp = waExpiration(m);
    if (!chat || exp === undefined) return;
    if (exp > 0) bounded(this.expirations, chat, exp, MAX_CHATS);
    else this.expirations.delete(chat);
  }

  /** The chat's disappearing timer in seconds, for a reply to carry; undefined when off or unknown. */
  expiration(jid: string): number | undefined {
    return this.expirations.get(jid);
  }

  /** Baileys' `cachedGroupMetadata`: cached, else fetched once and kept, so a group reply does not query WhatsApp each time. */
  groupMetadata(fetch: ((jid: string) => Promise<GroupMetadata>) | undefined) {
    return async (jid: string): Promise<GroupMetadata | undefined> => {
      const hit = this.groups.get(jid);
      // A lookup that failed is not tried again for a while: a group WhatsApp will not describe
      // must not cost a query per message (each waits in its chat's line).
      if (hit && Date.now() - hit.at < (hit.meta ? GROUP_TTL_MS : FAILED_TTL_MS)) return hit.meta;
      if (!fetch) return undefined;
      const meta = await fetch(jid).catch(() => undefined);
      bounded(this.groups, jid, { at: Date.now(), meta }, MAX_CHATS);
      return meta;
    };
  }

  /** `groups.update` / `group-participants.update`: the group's metadata changed; fetched again on next use. */
  groupChanged(jid: string | undefined): void {
    if (jid) this.groups.delete(jid);
  }

  /** Baileys' `shouldIgnoreJid`: status posts and channels are never answered, so never even decrypted. */
  readonly shouldIgnoreJid = (jid: string): boolean => {
    const ignore = isJidStatusBroadcast(jid) || isJidNewsletter(jid) === true;
    if (ignore) this.log.debug("whatsapp: ignored at the socket (status or channel)", { jid });
    return ignore;
  };
}
