/** A glob (`*` any run of characters, `?` one character, nothing else special) as an anchored RegExp. */
function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/**
 * Which of a server's tools the model may see: those matching `allow` (all when absent)
 * and none matching `deny` — deny wins, so one rule can carve a tool out of a wide allow.
 */
export function toolFilter(allow: readonly string[] | undefined, deny: readonly string[]): (tool: string) => boolean {
  const allowed = allow?.map(globRegExp);
  const denied = deny.map(globRegExp);
  return (tool) => (allowed === undefined || allowed.some((r) => r.test(tool))) && !denied.some((r) => r.test(tool));
}
