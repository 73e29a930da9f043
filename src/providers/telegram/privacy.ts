/**
 * Telegram privacy mode (issue 21 §8): a bot with it on (getMe `can_read_all_group_messages`
 * false, the default) sees in groups only commands addressed to it (`/ask@<bot> …`) and
 * replies to its own messages — plain @mentions and ordinary lines never reach it.
 */
export const privacyAdvice = (username: string | undefined) =>
  `privacy mode is on for @${username ?? "the bot"}: in groups it only sees commands addressed to it (/ask@${username ?? "bot"} …) and replies to its messages — to let it see mentions, ` +
  "turn privacy off in @BotFather (/setprivacy → Disable), then remove the bot from each group and add it again (the change applies on joining)";
