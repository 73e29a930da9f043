import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Compare a presented secret with the expected one in time independent of where they
 * differ. Both are hashed first, so neither length nor content leaks through timing.
 * A missing secret never matches, not even an empty expected one.
 */
export function secretEquals(presented: string | undefined, expected: string): boolean {
  const a = createHash("sha256").update(presented ?? "").digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && presented !== undefined;
}
