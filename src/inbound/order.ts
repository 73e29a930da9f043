/**
 * One chat, one order (issue 21 §3): a message takes its place in its chat's line the
 * moment it arrives — before any await, so before its file downloads or its policy is
 * read — and its run may start only once every earlier message of that chat has started
 * its run or ended without one. The agent runner then keeps a session's runs in the
 * order they started.
 */

/** A message's place in its chat's line. */
export interface ChatSlot {
  /** Resolves once every earlier message of the chat has let go of its place. */
  readonly ready: Promise<void>;
  /** Let go of the place (its run started, or it ended without one); idempotent. */
  release(): void;
}

/** A chat's line ends with a message that never lets go: it is skipped after this (bounded wait). */
const MAX_WAIT_MS = 10 * 60_000;

export class ChatOrder {
  /** The last place taken per chat; a chat leaves the map once its line is empty (bounded by chats with messages in flight). */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly maxWaitMs = MAX_WAIT_MS) {}

  /** Take the next place in `chat`'s line. Synchronous on purpose: call it before the first await. */
  take(chat: string): ChatSlot {
    const previous = this.tails.get(chat) ?? Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A stuck predecessor (a bug, a download past every timeout) must not hold the chat forever.
    const bounded = new Promise<void>((r) => {
      timer = setTimeout(r, this.maxWaitMs);
      (timer as { unref?: () => void }).unref?.();
    });
    const ready = Promise.race([previous, bounded]).finally(() => clearTimeout(timer));
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    // The line moves past this place only once it is ready AND let go: a place let go early
    // (an album item folded into an earlier one) does not let later messages overtake that earlier one.
    const tail = Promise.all([ready, mine]).then(() => {
      if (this.tails.get(chat) === tail) this.tails.delete(chat);
    });
    this.tails.set(chat, tail);
    return { ready, release };
  }

  /** Chats with a message in line (for tests and health). */
  get size(): number {
    return this.tails.size;
  }
}

/** The line a message stands in: its chat on its provider. */
export const orderKey = (msg: { provider: string; chat: string }) => `${msg.provider}:${msg.chat}`;
