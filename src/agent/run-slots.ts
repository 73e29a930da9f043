/**
 * How many runs execute at once (`agent.maxConcurrent`): a run takes a slot before its
 * backend starts and gives it back when it ends; the rest wait in arrival order.
 */
export class RunSlots {
  private readonly waiters: (() => void)[] = [];
  private executing = 0;

  constructor(private max: number) {}

  /** A config reload: a higher limit lets waiting runs start now (each re-checks the limit as it wakes). */
  setMax(max: number): void {
    this.max = max;
    for (let free = max - this.executing; free > 0 && this.waiters.length > 0; free--) this.waiters.shift()!();
  }

  /** Resolves once a slot is this run's; rejects with the abort reason if the run is aborted first. */
  async acquire(signal: AbortSignal): Promise<void> {
    // The limit in force now: a waiter woken by a raised limit (setMax) takes the new slot.
    while (this.executing >= this.max) {
      if (signal.aborted) throw signal.reason;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        // An aborted waiter leaves the queue, so a freed slot always wakes a live one.
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve();
        };
        this.waiters.push(wake);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
    if (signal.aborted) throw signal.reason;
    this.executing += 1;
  }

  release(): void {
    this.executing -= 1;
    this.waiters.shift()?.();
  }
}
