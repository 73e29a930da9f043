/**
 * Preloaded by `SOAK_LEAK=1 npm run soak` into the gateway (run from source on Bun for it):
 * keeps SOAK_LEAK_KIB_PER_S (64) KiB more every second, for good — a gateway made to leak,
 * so the soak's judge can be seen failing on a real process, not only on synthetic series.
 */
const kept: Uint8Array[] = [];
const kib = Number(process.env.SOAK_LEAK_KIB_PER_S ?? 64);
// fill() touches every page, so the leak shows in RSS at once.
setInterval(() => kept.push(new Uint8Array(kib * 1024).fill(1)), 1_000).unref();
