/** Control characters a model or a tool could put in a name: never written to a terminal as is. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The stderr line of an agent `tool` event: `→ name {args}` when a call starts, `← name ok
 * 120 ms` (or `failed`) when it ends; undefined for anything else. Arguments are cut at 200
 * characters: the line says what happened, the events carry the whole.
 */
export function toolLine(stream: string, data: unknown): string | undefined {
  if (stream !== "tool") return undefined;
  const d = data as { phase?: string; name?: unknown; args?: unknown; ok?: unknown; ms?: unknown } | null;
  const name = String(d?.name ?? "?").replace(CONTROL, "?");
  if (d?.phase === "call") {
    // JSON escapes C0 controls; C1 (e.g. U+009B CSI) and bidi overrides it leaves as they are.
    const args = (JSON.stringify(d.args ?? {}) ?? "").replace(/[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    return `→ ${name} ${args.length > 200 ? `${args.slice(0, 200)}…` : args}`;
  }
  if (d?.phase === "result") return `← ${name} ${d.ok === true ? "ok" : "failed"} ${typeof d.ms === "number" ? d.ms : "?"} ms`;
  return undefined;
}
