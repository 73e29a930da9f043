/**
 * Two clocks: the wall clock (what a record's timestamp says, and the only one that
 * spans a restart) and the monotonic clock (how long something waited while the process
 * ran — an NTP step or a changed time zone never moves it).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  wall(): number;
  /** Milliseconds from an arbitrary origin; never jumps. */
  mono(): number;
}

export const systemClock: Clock = { wall: () => Date.now(), mono: () => performance.now() };

/** The monotonic time at which the wall-clock instant `at` was, assuming the clocks have not drifted since. */
export const monoAt = (clock: Clock, at: number): number => clock.mono() - (clock.wall() - at);
