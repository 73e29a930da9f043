/// <reference lib="dom" />
/** The header and side panel: the link to the gateway, health badges, presence. */
import type { Health, PresenceEntry } from "../../protocol/index.ts";
import type { LinkState, RelayError } from "../messages.ts";
import { h } from "./markdown.ts";
import { $, state } from "./state.ts";

export function renderHealth(): void {
  const ul = $("health");
  ul.replaceChildren();
  const hh = state.health;
  if (!hh) return;
  const badge = (key: string, text: string, level: string) => ul.append(h("li", { "data-key": key, "data-level": level, text }));
  if (hh.web?.linked) badge("whatsapp", "WhatsApp linked", "ok");
  else badge("whatsapp", "WhatsApp not linked", "warn");
  if (hh.telegram?.configured) badge("telegram", "Telegram configured", "ok");
  else badge("telegram", "Telegram not configured", "off");
  badge("agent", `Agent: ${hh.agent?.backend || "unknown"}`, "ok");
}

export function presenceKey(e: PresenceEntry): string {
  return e.instanceId || e.host;
}

export function renderPresence(): void {
  const list = [...state.presence.values()].sort((a, b) => {
    if ((a.mode === "gateway") !== (b.mode === "gateway")) return a.mode === "gateway" ? -1 : 1;
    return String(a.host).localeCompare(String(b.host));
  });
  const ul = $("presence");
  ul.replaceChildren();
  for (const e of list) {
    const detail = [e.ip, e.version ? `v${e.version}` : "", e.platform, e.text].filter(Boolean).join(" · ");
    ul.append(
      h(
        "li",
        { "data-mode": String(e.mode), "data-instance": String(presenceKey(e)) },
        h("span", { class: "host", text: e.host }),
        h("span", { class: "mode", text: e.mode }),
        h("span", { class: "detail", text: detail }),
      ),
    );
  }
  $("presence-count").textContent = `(${list.length})`;
}

const LINK_TEXT: Record<LinkState, string> = {
  connected: "connected",
  connecting: "connecting…",
  reconnecting: "reconnecting…",
  disconnected: "disconnected",
};

/** Show the link's state; every control that needs the gateway works only when connected. */
export function setLink(link: LinkState, detail?: string): void {
  state.link = link;
  const pill = $("link");
  pill.setAttribute("data-state", link);
  pill.textContent = LINK_TEXT[link] || link;
  const banner = $("banner");
  if (link === "connected") banner.hidden = true;
  else {
    const lead = link === "reconnecting" ? "Reconnecting… " : link === "connecting" ? "Connecting to the gateway… " : "Not connected to the gateway. ";
    banner.textContent = lead + (detail ? `(${detail})` : "");
    banner.setAttribute("data-state", link);
    banner.hidden = false;
  }
  const usable = link === "connected";
  for (const b of document.querySelectorAll<HTMLButtonElement>("button[data-needs-link]")) b.disabled = !usable;
}

/** A failed request as the page shows it: `CODE: message`. */
export function describeError(err: RelayError | undefined): string {
  return (err?.code ? `${err.code}: ` : "") + (err?.message || "failed");
}

export function applySnapshot(m: { health: Health | null; presence?: PresenceEntry[] }): void {
  state.health = m.health;
  state.presence = new Map();
  for (const e of m.presence || []) state.presence.set(presenceKey(e), e);
  renderHealth();
  renderPresence();
}
