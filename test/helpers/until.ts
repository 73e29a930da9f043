/** Poll `fn` until it yields a truthy value (returned), or fail naming `what` after `ms`. */
export async function until<T>(fn: () => T | Promise<T>, what: string, ms = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
