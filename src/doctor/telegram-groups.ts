import { join } from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import { migrationAdvice, TelegramMigrations } from "../providers/telegram/migrations.ts";
import { privacyAdvice } from "../providers/telegram/privacy.ts";
import { ok, warn, type DoctorContext, type Finding } from "./finding.ts";
import { probe } from "./network.ts";

/**
 * Telegram groups that changed under the bot (issue 21 §8): a group upgraded to a
 * supergroup whose new id `groups.allow` does not name yet, and privacy mode on while
 * groups are enabled (the bot then sees only commands addressed to it and replies).
 */
export async function checkTelegramGroups(ctx: DoctorContext, loaded: LoadedConfig | null): Promise<Finding> {
  const tg = loaded?.config.telegram;
  if (!tg?.botToken) return ok("telegram-groups", "not configured");
  const advice: string[] = [];
  const migrations = new TelegramMigrations(join(ctx.paths.stateDir, "telegram", "migrations.json"));
  for (const [newId, oldId] of migrations.entries()) {
    if (tg.groups.allow.includes(oldId) && !tg.groups.allow.includes(newId)) advice.push(migrationAdvice(oldId, newId));
  }
  if (tg.groups.policy !== "disabled") {
    const root = tg.apiRoot ?? "https://api.telegram.org";
    const r = await probe(`${root.replace(/\/$/, "")}/bot${tg.botToken}/getMe`, {}, ctx.timeoutMs);
    const me = "body" in r ? (r.body as { ok?: boolean; result?: { username?: string; can_read_all_group_messages?: boolean } }) : undefined;
    if (me?.ok && me.result?.can_read_all_group_messages !== true) advice.push(privacyAdvice(me.result?.username));
  }
  if (advice.length === 0) return ok("telegram-groups", tg.groups.policy === "disabled" ? "groups disabled" : "groups: no migration pending, privacy mode off");
  return warn("telegram-groups", advice.join("; "), "follow the advice above; the gateway keeps answering meanwhile");
}
