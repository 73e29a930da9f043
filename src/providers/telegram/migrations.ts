import { dirname } from "node:path";
import { privateDir, readJson, writeAtomic } from "../../core/atomic.ts";

/** Chains longer than this are a loop in a hand-edited file, not history. */
const MAX_HOPS = 8;
/** A bot is in a bounded number of groups; the file stays small. */
const MAX_ENTRIES = 10_000;

/**
 * Telegram groups upgraded to supergroups (issue 21 §8): the new chat id → the old one,
 * kept in `<state>/telegram/migrations.json` (0600). The gateway treats the new id as the
 * old one for `groups.allow` and the group's session, so an upgrade does not silence the bot.
 */
export class TelegramMigrations {
  private map: Record<string, string>;

  constructor(private readonly file: string) {
    const raw = readJson<Record<string, unknown>>(file, {});
    this.map = Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === "string"));
  }

  /** The original id of a migrated chat (following repeated upgrades), or undefined. */
  oldIdOf(chatId: string): string | undefined {
    let id = chatId;
    for (let i = 0; i < MAX_HOPS && this.map[id] !== undefined; i++) id = this.map[id]!;
    return id === chatId ? undefined : id;
  }

  /** Record `oldId` → `newId`; true when it was not known yet (the caller logs it once). */
  private writing: Promise<void> = Promise.resolve();

  async record(oldId: string, newId: string): Promise<boolean> {
    if (oldId === newId || this.map[newId] === oldId) return false;
    this.map[newId] = oldId;
    const keys = Object.keys(this.map);
    for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete this.map[k];
    // Writes go one after another, each of the map as it is then: a slow older write never lands last.
    const write = this.writing.then(() => {
      privateDir(dirname(this.file));
      return writeAtomic(this.file, JSON.stringify(this.map, null, 2));
    });
    this.writing = write.catch(() => {});
    await write;
    return true;
  }

  /** A message of an upgrade (`migrate_to_chat_id` in the old group, `migrate_from_chat_id` in the new): recorded; the advice when it is news. */
  async observe(m: { chat: { id: number }; migrate_to_chat_id?: number; migrate_from_chat_id?: number }): Promise<string | undefined> {
    const pair = m.migrate_to_chat_id !== undefined ? [m.chat.id, m.migrate_to_chat_id] : m.migrate_from_chat_id !== undefined ? [m.migrate_from_chat_id, m.chat.id] : undefined;
    if (!pair) return undefined;
    const [oldId, newId] = pair.map(String) as [string, string];
    return (await this.record(oldId, newId)) ? migrationAdvice(oldId, newId) : undefined;
  }

  /** Every mapping, new id → old id. */
  entries(): [newId: string, oldId: string][] {
    return Object.entries(this.map);
  }
}

/** What to change in the config after an upgrade: said in the log once and by `clawdis doctor`. */
export const migrationAdvice = (oldId: string, newId: string) =>
  `telegram group ${oldId} was upgraded to supergroup ${newId}; answers continue under the old id's rules — replace ${oldId} with ${newId} in telegram.groups.allow when convenient`;
