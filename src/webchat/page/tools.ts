/// <reference lib="dom" />
/**
 * The agent's tool calls, inline under its reply (issue 24): one collapsed entry per call —
 * its name and outcome in the summary line, the arguments and the result inside. Every
 * piece goes in as text, never as markup.
 */
import { h } from "./markdown.ts";
import type { Run } from "./state.ts";

/** Calls shown per reply; past it the rest are counted, not drawn. */
const MAX_CALLS_SHOWN = 64;

function pretty(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2) ?? "";
  } catch {
    return String(value);
  }
}

/** The list under a reply, made on its first call. */
function list(run: Run): HTMLElement {
  const found = run.art.querySelector<HTMLElement>(":scope > .tools");
  if (found) return found;
  const box = h("div", { class: "tools", "aria-label": "Tool calls" });
  run.body.after(box);
  return box;
}

/** A `tool` event of the run: a `call` adds an entry, its `result` completes it. */
export function showTool(run: Run, data: Record<string, unknown>): void {
  const callId = String(data.callId ?? "");
  const name = String(data.name ?? "tool");
  const box = list(run);
  let entry = [...box.querySelectorAll<HTMLDetailsElement>("details.tool")].find((d) => d.dataset.callId === callId);
  if (!entry) {
    if (box.children.length >= MAX_CALLS_SHOWN) return;
    entry = h("details", { class: "tool", "data-state": "running" }, h("summary", { text: `${name} · running…` }));
    entry.dataset.callId = callId;
    box.append(entry);
  }
  if (data.phase === "call") {
    entry.append(h("div", { class: "tool-label", text: "arguments" }), h("pre", { class: "tool-args", text: pretty(data.args) }));
  } else if (data.phase === "result") {
    const ok = data.ok === true;
    entry.dataset.state = ok ? "ok" : "error";
    entry.querySelector("summary")!.textContent = `${name} · ${ok ? "ok" : "failed"} · ${typeof data.ms === "number" ? data.ms : "?"} ms`;
    entry.append(h("div", { class: "tool-label", text: "result" }), h("pre", { class: "tool-result", text: pretty(data.result) }));
  }
}
