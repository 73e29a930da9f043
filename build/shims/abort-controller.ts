/**
 * The Node bundle's stand-in for the `abort-controller` polyfill grammY's Node shim loads:
 * Node ≥ 20 has both classes built in. Bundled, the polyfill's class is renamed
 * `AbortSignal2` (it would shadow the global), and node-fetch, which checks
 * `signal.constructor.name === "AbortSignal"`, then refuses every request grammY makes
 * ("Expected signal to be an instanceof AbortSignal").
 */
export const AbortController = globalThis.AbortController;
export const AbortSignal = globalThis.AbortSignal;
export default AbortController;
