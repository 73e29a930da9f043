/**
 * One copy of a short string many connections repeat (the loopback address, a client's
 * name, version, platform, mode): each connection kept its own before. Bounded: past
 * MAX_ENTRIES distinct strings the table starts over, so odd values cannot grow it.
 */
const MAX_ENTRIES = 4096;
const MAX_LENGTH = 64;
const first = memoByString((s) => s, MAX_ENTRIES);

export function intern(s: string): string {
  return s.length > MAX_LENGTH ? s : first(s);
}

/**
 * `fn` with its results kept for up to `max` distinct string arguments (the table starts
 * over when full): for pure functions of a peer's address, asked on every handshake.
 */
export function memoByString<T>(fn: (s: string) => T, max = 1024): (s: string) => T {
  const kept = new Map<string, T>();
  return (s) => {
    const hit = kept.get(s);
    if (hit !== undefined) return hit;
    const value = fn(s);
    if (kept.size >= max) kept.clear();
    kept.set(s, value);
    return value;
  };
}
