/**
 * "typing…" per chat while runs work (issue 16 §3): shown at once and renewed every
 * `everyMs` (the apps drop it after a few seconds), for as long as any run of the chat
 * holds it; the last one to stop ends it (`off`, e.g. WhatsApp's "paused").
 */
export class TypingChats {
  private readonly chats = new Map<string, { holders: number; timer: ReturnType<typeof setInterval>; off?: () => void }>();

  constructor(private readonly everyMs: number) {}

  /** Hold "typing" in `chat`; the returned function lets go (once; later calls do nothing). */
  start(chat: string, on: () => void, off?: () => void): () => void {
    let entry = this.chats.get(chat);
    if (!entry) {
      on();
      entry = { holders: 0, timer: setInterval(on, this.everyMs), ...(off ? { off } : {}) };
      this.chats.set(chat, entry);
    }
    entry.holders += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const e = this.chats.get(chat);
      if (e && --e.holders <= 0) this.end(chat);
    };
  }

  private end(chat: string): void {
    const e = this.chats.get(chat);
    if (!e) return;
    clearInterval(e.timer);
    this.chats.delete(chat);
    e.off?.();
  }

  /** The provider stops (shutdown): every chat stops typing. */
  stopAll(): void {
    for (const chat of [...this.chats.keys()]) this.end(chat);
  }
}
