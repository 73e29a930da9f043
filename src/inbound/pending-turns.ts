/**
 * Chat messages the gateway has taken in but not handed to the agent runner yet: an
 * album or burst still being collected, a file still downloading, a message waiting its
 * turn in the chat's line. The runner cannot see them, so chat commands ask here too:
 * `/stop` and `/new` drop them, `/status` counts them as queued, and an edit of one of
 * them replaces just that message's part of its turn (issue 23 §2, §5).
 */

/** What a run already handed over says to an edit of its turn (the agent runner's editQueued). */
export type EditOutcome = "replaced" | "started" | "ended";

export class PendingMessage {
  /** The message's words as its turn will use them (an edit replaces them). */
  text: string;
  /** An edit changed the words (the run's input is then rebuilt from the parts). */
  edited = false;
  /** Set by `/stop` or `/new`: the message goes no further; the reason its record ends with. */
  dropped?: string;
  /** The message this one was folded into (an album or a burst), once its turn closed. */
  head?: PendingMessage;
  /** A head: the messages of its turn, itself first. */
  members: PendingMessage[] = [this];
  /** A head: how its run's input is made from the turn's words (a late message's "[written …]" stays). */
  render?: (text: string) => string;
  /** A head handed to the runner: resolves with its run id. */
  private handed?: Promise<string | undefined>;

  constructor(
    readonly key: string,
    readonly session: string,
    text: string,
    private readonly owner: PendingTurns,
  ) {
    this.text = text;
  }

  /** The turn this message belongs to. */
  get turn(): PendingMessage {
    return this.head ?? this;
  }

  /** Why the message goes no further (its turn was dropped), or undefined. */
  get droppedBy(): string | undefined {
    return this.dropped ?? this.head?.dropped;
  }

  /** Not handed to the runner and not dropped: what `/stop` drops and `/status` counts. */
  get waiting(): boolean {
    return !this.turn.handed && this.droppedBy === undefined;
  }

  /** The turn's words: every member's text, in arrival order, joined by newlines. */
  joined(): string {
    return this.members.map((m) => m.text).filter((t) => t.trim() !== "").join("\n");
  }

  /** The members folded into this head (their texts are its parts from now on). */
  fold(members: PendingMessage[]): void {
    this.members = [this, ...members.filter((m) => m !== this)];
    for (const m of this.members) if (m !== this) m.head = this;
  }

  /** The head's turn goes to the runner: edits from now on go through the run id. */
  hand(run: Promise<string | undefined>): void {
    this.handed = run.catch(() => undefined);
  }

  /**
   * An edit of this message: its part of the turn takes the new words. Before the turn
   * is handed over that is all; after, the queued run takes the rebuilt input — unless
   * it already started or ended.
   */
  async edit(text: string, editQueued?: (runId: string, text: string) => Promise<EditOutcome>): Promise<EditOutcome> {
    const head = this.turn;
    const before = this.text;
    this.text = text;
    this.edited = true;
    if (!head.handed) return "replaced";
    const runId = await head.handed;
    const out = runId && editQueued ? await editQueued(runId, (head.render ?? ((t) => t))(head.joined())) : "ended";
    if (out !== "replaced") {
      this.text = before;
      this.edited = false;
    }
    return out;
  }

  /** The message's turn is over (run handed over, or it ended without one); a folded message leaves with its head. */
  done(): void {
    if (this.head) return;
    for (const m of this.members) this.owner.remove(m);
  }
}

/** Messages in flight at once are bounded by the providers' own inbound limits; each leaves on `done`. */
export class PendingTurns {
  private readonly byKey = new Map<string, PendingMessage>();
  private readonly epochs = new Map<string, number>();

  /** A message taken in for a run in `session` (`key`: provider and message id). */
  add(session: string, key: string, text: string): PendingMessage {
    const m = new PendingMessage(key, session, text, this);
    this.byKey.set(key, m);
    return m;
  }

  /** The message still in flight under `key`, if any (for an edit). */
  find(key: string): PendingMessage | undefined {
    return this.byKey.get(key);
  }

  remove(m: PendingMessage): void {
    if (this.byKey.get(m.key) === m) this.byKey.delete(m.key);
  }

  /** Messages of `session` not yet handed to the runner. */
  count(session: string): number {
    let n = 0;
    for (const m of this.byKey.values()) if (m.session === session && m.waiting) n++;
    return n;
  }

  /** Drop every waiting message of `session` (their records end with `reason`); how many. */
  drop(session: string, reason: string): number {
    let n = 0;
    for (const m of this.byKey.values()) {
      if (m.session !== session || !m.waiting) continue;
      m.dropped = reason;
      n++;
    }
    // Messages after the drop start albums and bursts of their own.
    if (n > 0) this.epochs.set(session, (this.epochs.get(session) ?? 0) + 1);
    if (this.epochs.size > 10_000) this.epochs.delete(this.epochs.keys().next().value!);
    return n;
  }

  /** How many drops `session` has had (part of its burst keys). */
  epoch(session: string): number {
    return this.epochs.get(session) ?? 0;
  }
}

/** The record reason of a message `/stop` dropped, and of one `/new` dropped. */
export const STOPPED_REASON = "stopped by /stop";
export const NEW_REASON = "stopped by /new";
