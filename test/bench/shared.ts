/** What the bench, its client processes and the echo baseline agree on. */

/** A frame starting with this is broadcast by the echo baseline (a `system-event` req for the gateway). */
export const BROADCAST_PREFIX = '{"type":"req","method":"system-event"';

/** A wall-clock timestamp in ms with sub-ms resolution, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();
