import { monoAt, systemClock, type Clock } from "../core/clock.ts";
import { live, type Live } from "./types.ts";

/** `<provider>.pacing` in the config. */
export interface PacingOptions {
  /** Least time between two sends to the same chat. */
  perChatMinIntervalMs: number;
  /** Sends per rolling minute across all chats of the provider. */
  perMinute: number;
  /** Up to this much random extra wait after each send to a chat (sends that look less machine-made). */
  jitterMs: number;
}

/** One send waiting for its turn. `run` resolves `undefined` when done, or a delay to be tried again after. */
export interface PacedJob {
  readonly chat: string;
  run(): Promise<number | undefined>;
}

const MINUTE = 60_000;

/**
 * One queue per provider: jobs go out one at a time, never two to a chat within
 * `perChatMinIntervalMs` (+ jitter), never more than `perMinute` in a rolling minute.
 * Jobs for one chat keep their order; a chat that must wait does not hold up the others.
 */
export class PacingQueue {
  private readonly jobs: PacedJob[] = [];
  /** When each chat may be sent to next (only chats with a future time are kept). */
  private readonly nextAt = new Map<string, number>();
  /** Send times within the last minute, oldest first (at most `perMinute`). */
  private readonly window: number[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private busy = false;
  private stopped = false;

  constructor(
    /** The options, or a getter read at every decision (a config reload applies to the next send). */
    private readonly options: Live<PacingOptions>,
    /** `clock`: waits are measured on its monotonic side, so a wall-clock step never delays nor hurries a send. */
    private readonly hooks: { onChange?: () => void; clock?: Clock; random?: () => number; maxJobs?: number } = {},
  ) {}

  /** Jobs waiting for their turn (the one being sent included). */
  get length(): number {
    return this.jobs.length;
  }

  get full(): boolean {
    return this.jobs.length >= (this.hooks.maxJobs ?? 10_000);
  }

  push(job: PacedJob): void {
    this.jobs.push(job);
    this.hooks.onChange?.();
    this.schedule(0);
  }

  /** Drop waiting jobs (not the one being sent). */
  remove(pred: (job: PacedJob) => boolean): void {
    const before = this.jobs.length;
    for (let i = this.jobs.length - 1; i >= 0; i--) if (this.jobs[i] !== this.current && pred(this.jobs[i]!)) this.jobs.splice(i, 1);
    if (this.jobs.length !== before) this.hooks.onChange?.();
  }

  /** Sends made before a restart (`at`: wall clock) still count against the chat gap and the minute. */
  seed(sent: readonly { chat: string; at: number }[]): void {
    const clock = this.hooks.clock ?? systemClock;
    for (const s of [...sent].sort((a, b) => a.at - b.at)) this.record(s.chat, monoAt(clock, s.at), false);
  }

  /** Send nothing more; waiting jobs stay where they are (the caller persists them). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private current: PacedJob | undefined;

  private get opts(): PacingOptions {
    return live(this.options);
  }

  private now(): number {
    return (this.hooks.clock ?? systemClock).mono();
  }

  private record(chat: string, at: number, jitter = true): void {
    this.window.push(at);
    while (this.window.length > this.opts.perMinute) this.window.shift();
    const extra = jitter ? Math.floor((this.hooks.random ?? Math.random)() * this.opts.jitterMs) : 0;
    this.nextAt.set(chat, Math.max(this.nextAt.get(chat) ?? 0, at + this.opts.perChatMinIntervalMs + extra));
  }

  private schedule(ms: number): void {
    if (this.stopped || this.busy) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), Math.max(0, ms));
  }

  /** How long until the next send may go, and which job it is. */
  private next(now: number): { wait: number; index: number } {
    while (this.window.length && this.window[0]! <= now - MINUTE) this.window.shift();
    for (const [chat, at] of this.nextAt) if (at <= now) this.nextAt.delete(chat);
    if (this.window.length >= this.opts.perMinute) return { wait: this.window[0]! + MINUTE - now, index: -1 };
    let wait = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.jobs.length; i++) {
      const at = this.nextAt.get(this.jobs[i]!.chat) ?? now;
      if (at <= now) return { wait: 0, index: i };
      wait = Math.min(wait, at - now);
    }
    return { wait, index: -1 };
  }

  private async pump(): Promise<void> {
    if (this.stopped || this.busy || this.jobs.length === 0) return;
    const { wait, index } = this.next(this.now());
    if (index < 0) {
      if (Number.isFinite(wait)) this.schedule(wait);
      return;
    }
    const job = this.jobs[index]!;
    this.busy = true;
    this.current = job;
    let retryIn: number | undefined;
    try {
      retryIn = await job.run();
    } catch {
      // A job reports its own failure; the queue only keeps going.
    }
    this.current = undefined;
    this.busy = false;
    if (retryIn !== undefined) {
      this.nextAt.set(job.chat, this.now() + retryIn);
    } else {
      this.jobs.splice(this.jobs.indexOf(job), 1);
      this.record(job.chat, this.now());
      this.hooks.onChange?.();
    }
    this.schedule(0);
  }
}
