/** What the WebChat browser tests share. */

/** Poll `cond` until it holds (no fixed sleeps: the machine may be busy). */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** The URL from the "webchat on http://…" log line. */
export async function webchatUrlFrom(out: () => string): Promise<string> {
  let url = "";
  await until(() => !!(url = /webchat on (http:\/\/\S+)/.exec(out())?.[1] ?? ""), 10_000, `the webchat line in:\n${out()}`);
  return url;
}
