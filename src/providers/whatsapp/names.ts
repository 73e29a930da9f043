import { jidNormalizedUser } from "@whiskeysockets/baileys";
import { BoundedCache } from "./outbox.ts";

/**
 * People's names by JID (phone JID and LID alike), learned from the push names their
 * messages carry, so a mention or a quote reads `@Alice` instead of LID digits. Bounded:
 * 5,000 people, a week.
 */
export class WaNames {
  private readonly cache = new BoundedCache<string>(5_000, 7 * 86_400_000);

  learn(jids: readonly (string | null | undefined)[], name: string | null | undefined): void {
    if (!name) return;
    for (const j of jids) if (j && j.includes("@")) this.cache.set(jidNormalizedUser(j), name);
  }

  /** The name a JID's messages carried, if one was seen. */
  get(jid: string): string | undefined {
    return this.cache.get(jidNormalizedUser(jid));
  }
}

/** `@<digits>` of each mentioned JID in the text, replaced by `@<name>` where the name is known. */
export function mentionsAsNames(text: string, mentioned: readonly string[], name: (jid: string) => string | undefined): string {
  if (mentioned.length === 0) return text;
  const byDigits = new Map(mentioned.map((j) => [jidNormalizedUser(j).split("@")[0]!, j]));
  return text.replace(/@(\d{5,})/g, (whole, digits: string) => {
    const jid = byDigits.get(digits);
    const n = jid ? name(jid) : undefined;
    return n ? `@${n.replace(/^@/, "")}` : whole;
  });
}
