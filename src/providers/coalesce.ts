/**
 * `fn` at most once per `everyMs`: the first call runs at once, calls within the window
 * fold into one run at its end. For status pushes a burst of messages would otherwise
 * turn into a health broadcast each.
 */
export function coalesce(fn: () => void, everyMs: number): { (): void; cancel(): void } {
  let last = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    fn();
  };
  const call = () => {
    if (timer) return;
    const wait = last + everyMs - Date.now();
    if (wait <= 0) return run();
    timer = setTimeout(run, wait);
    (timer as { unref?: () => void }).unref?.();
  };
  call.cancel = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
