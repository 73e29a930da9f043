import { createHash, timingSafeEqual } from "node:crypto";

/** Compare a presented token with the configured one in time independent of where they differ. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  // Hashing first gives equal-length inputs, so neither length nor content leaks through timing.
  const a = createHash("sha256").update(presented ?? "").digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && presented !== undefined;
}
