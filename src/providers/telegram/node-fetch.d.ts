/** node-fetch 2 ships no types; grammY calls it with the same arguments as the standard fetch. */
declare module "node-fetch" {
  const fetch: typeof globalThis.fetch;
  export default fetch;
}
