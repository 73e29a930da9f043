/**
 * Text that came from the network (a stranger's display name, message text, a reason) must
 * not drive the owner's terminal: ESC sequences can clear lines, retitle the window or
 * disguise a row. Every C0 control, DEL and every C1 control is shown as a visible `\xHH`.
 * `lines` keeps newline and tab, for a whole block of human output whose fields were
 * already escaped one by one (a newline inside a field would forge a row of its own).
 * `--json` output never goes through this: JSON escapes control characters itself, exactly.
 */
export function visible(text: string, opts: { lines?: boolean } = {}): string {
  const re = opts.lines ? /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g : /[\x00-\x1f\x7f-\x9f]/g;
  return text.replace(re, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
