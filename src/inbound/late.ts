/**
 * Messages that arrive late (issue 21 §5): after downtime, WhatsApp's offline `append`
 * upserts, a Telegram backlog. One rule for both providers, by the provider's own
 * timestamp: within `inbound.lateAfterMs` a message is on time; up to
 * `inbound.lateAnswerWindowMs` it is answered and the agent is told when it was written;
 * older ones are skipped (`too old`) with one notice per chat per backlog.
 */

export interface LateSettings {
  lateAfterMs: number;
  lateAnswerWindowMs: number;
  /** The notice for a message too old to answer (`{time}`: when it was written); false: none. */
  lateNotice: string | false;
}

export type Lateness = { kind: "on time" } | { kind: "late"; writtenAt: number } | { kind: "too old"; writtenAt: number };

/** The ledger reason of a message too old to answer, exactly. */
export const TOO_OLD = "too old";

/** Where a message written at `ts` stands when it reaches the gateway at `now`. */
export function lateness(ts: number | undefined, now: number, s: LateSettings): Lateness {
  if (!ts) return { kind: "on time" };
  const age = now - ts;
  if (age <= s.lateAfterMs) return { kind: "on time" };
  return age <= s.lateAnswerWindowMs ? { kind: "late", writtenAt: ts } : { kind: "too old", writtenAt: ts };
}

const pad = (n: number) => String(n).padStart(2, "0");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `14:02` the same day (the gateway's local time), else `Dec 6 14:02`. */
export function clockTime(ts: number, now: number): string {
  const d = new Date(ts);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.toDateString() === new Date(now).toDateString() ? hm : `${MONTHS[d.getMonth()]} ${d.getDate()} ${hm}`;
}

/** `3 h 10 min`, `2 min`, `1 d 4 h` (a minute at least). */
export function ageText(ms: number): string {
  const min = Math.max(1, Math.floor(ms / 60_000));
  const d = Math.floor(min / 1_440);
  const h = Math.floor((min % 1_440) / 60);
  const m = min % 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return `${m} min`;
}

/** What the agent is told about a late message: `written 14:02, 3 h 10 min ago`. */
export const writtenPhrase = (writtenAt: number, now: number) => `written ${clockTime(writtenAt, now)}, ${ageText(now - writtenAt)} ago`;

/** A backlog of one chat ends once this passes without another too-old message (or with an on-time one). */
const BACKLOG_GAP_MS = 10 * 60_000;
const MAX_CHATS = 1_000;

/** One late notice per chat per backlog. */
export class LateNotices {
  /** Chat → when its backlog last saw a too-old message. */
  private readonly noticed = new Map<string, number>();

  /** A too-old message in `chat`: true when this backlog has had no notice yet. */
  due(chat: string, now = Date.now()): boolean {
    const last = this.noticed.get(chat);
    this.noticed.delete(chat);
    this.noticed.set(chat, now);
    while (this.noticed.size > MAX_CHATS) this.noticed.delete(this.noticed.keys().next().value!);
    return last === undefined || now - last > BACKLOG_GAP_MS;
  }

  /** An on-time message ends the chat's backlog: the next old one is a new backlog. */
  onTime(chat: string): void {
    this.noticed.delete(chat);
  }
}

/** The notice text for a message written at `writtenAt`, or null when notices are off. */
export function lateNoticeText(s: LateSettings, writtenAt: number, now: number): string | null {
  return s.lateNotice === false ? null : s.lateNotice.replaceAll("{time}", clockTime(writtenAt, now));
}
