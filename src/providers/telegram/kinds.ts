import type { Message, MessageReactionUpdated } from "grammy/types";
import type { InboundMessage, MessageExtras, Placeholder } from "../types.ts";

/** Service messages: something happened in the chat, nobody wrote to the bot. Ledgered `skipped` with the kind. */
const SERVICE = [
  "new_chat_members",
  "left_chat_member",
  "new_chat_title",
  "new_chat_photo",
  "delete_chat_photo",
  "group_chat_created",
  "supergroup_chat_created",
  "channel_chat_created",
  "message_auto_delete_timer_changed",
  "migrate_to_chat_id",
  "migrate_from_chat_id",
  "pinned_message",
  "forum_topic_created",
  "forum_topic_edited",
  "forum_topic_closed",
  "forum_topic_reopened",
  "video_chat_started",
  "video_chat_ended",
  "video_chat_scheduled",
  "video_chat_participants_invited",
  "boost_added",
  "chat_background_set",
] as const;

/** Content without text or file, as a placeholder the agent can read. */
function placeholder(m: Message): Placeholder | undefined {
  if (m.venue) return { kind: "location", lat: m.venue.location.latitude, lon: m.venue.location.longitude, name: m.venue.title, address: m.venue.address };
  if (m.location) return { kind: "location", lat: m.location.latitude, lon: m.location.longitude, ...(m.location.live_period ? { live: true } : {}) };
  if (m.contact) {
    const name = [m.contact.first_name, m.contact.last_name].filter(Boolean).join(" ");
    return { kind: "contact", contacts: [{ name, phone: m.contact.phone_number }] };
  }
  if (m.sticker) return { kind: "sticker", ...(m.sticker.emoji ? { emoji: m.sticker.emoji } : {}) };
  if (m.poll) return { kind: "poll", question: m.poll.question, options: m.poll.options.map((o) => o.text) };
  return undefined;
}

/**
 * What a Telegram message holds beyond text and files (issue 21 §4, §6, §8): a placeholder,
 * a service kind never answered, the album it belongs to. Undefined when nothing.
 */
export function telegramExtras(m: Message, hasContent: boolean): MessageExtras | undefined {
  const extras: MessageExtras = {};
  if (m.media_group_id) extras.albumId = m.media_group_id;
  const p = placeholder(m);
  if (p) extras.placeholder = p;
  else if (!hasContent) {
    const service = SERVICE.find((k) => (m as unknown as Record<string, unknown>)[k] !== undefined);
    extras.ignored = service ? `service message (${service})` : "unsupported message kind";
  }
  return Object.keys(extras).length ? extras : undefined;
}

/** An update that is never a run or a reply, as a message ledgered `skipped` with its kind. */
function ignoredUpdate(chat: Message["chat"], from: { id: number; username?: string } | undefined, id: string, date: number, kind: string): InboundMessage {
  return {
    provider: "telegram",
    chat: String(chat.id),
    sender: String(from?.id ?? chat.id),
    senderNames: from?.username ? [`@${from.username}`] : [],
    // Its own id: it must not shadow the message it refers to in de-duplication.
    messageId: `${chat.id}:${id}`,
    text: "",
    ts: date * 1000,
    chatType: chat.type === "private" ? "private" : "group",
    addressed: false,
    extras: { ignored: kind },
  };
}

/** A reaction to a message (update `message_reaction`): ledgered `skipped`, `reaction`. */
export const reactionToInbound = (r: MessageReactionUpdated): InboundMessage =>
  ignoredUpdate(r.chat, r.user ?? r.actor_chat, `${r.message_id}:reaction:${r.user?.id ?? r.actor_chat?.id ?? ""}:${r.date}`, r.date, "reaction");
