/// <reference lib="dom" />
/**
 * The pairing panel (issue 16 §1): strangers who wrote under `dmPolicy: "pairing"` and got
 * a code, each with Approve and Reject, and a form for a code the stranger sent the owner
 * some other way. Every piece of their data (name, sender, code) reaches the DOM as text.
 */
import type { PairingRequest, ProviderName } from "../../protocol/index.ts";
import type { RelayMessage } from "../messages.ts";
import { h } from "./markdown.ts";
import { send } from "./socket.ts";
import { $, nextId, state, type Pending } from "./state.ts";
import { describeError } from "./status.ts";

type Decision = "pairing.approve" | "pairing.reject";
type Res = Extract<RelayMessage, { type: "res" }>;

const PROVIDER_NAME: Record<ProviderName, string> = { telegram: "Telegram", whatsapp: "WhatsApp" };

/** What approve and reject answer with (the gateway's result, as the page uses it). */
interface Decided {
  provider: ProviderName;
  code: string;
  sender: string;
}

function who(r: { sender: string; name?: string }): string {
  return r.name ? `${r.name} (${r.sender})` : r.sender;
}

function expiresIn(r: PairingRequest, now: number): string {
  const min = Math.max(1, Math.ceil((r.expiresAt - now) / 60_000));
  return `expires in ${min} min`;
}

function showResult(kind: "pending" | "ok" | "error", text: string): void {
  const out = $("pairing-result");
  out.setAttribute("data-kind", kind);
  out.textContent = text;
}

/** Draw the list; requests past their expiry are left out (the backend's next read drops them too). */
export function renderPairing(): void {
  const now = Date.now();
  const live = (state.pairing ?? []).filter((r) => r.expiresAt > now);
  const usable = state.link === "connected";
  const ul = $("pairing");
  ul.replaceChildren();
  for (const r of live) {
    const button = (action: Decision, label: string, cls: string) => {
      const b = h("button", { type: "button", class: cls, "data-action": action, "aria-label": `${label} ${who(r)} on ${PROVIDER_NAME[r.provider]}`, text: label });
      b.setAttribute("data-needs-link", "");
      b.disabled = !usable;
      return b;
    };
    ul.append(
      h(
        "li",
        { "data-provider": r.provider, "data-code": r.code },
        h("span", { class: "who", text: who(r) }),
        h("span", { class: "detail", text: `${PROVIDER_NAME[r.provider] ?? r.provider} · code ${r.code} · ${expiresIn(r, now)}` }),
        h("span", { class: "actions" }, button("pairing.approve", "Approve", "small"), button("pairing.reject", "Reject", "secondary small")),
      ),
    );
  }
  $("pairing-count").textContent = state.pairing ? `(${live.length})` : "";
  const empty = $("pairing-empty");
  empty.hidden = live.length > 0;
  empty.textContent = state.pairing ? "No one is waiting." : "Loading…";
}

/** A new list from the backend (a `pairing` push, the hello, or the answer to Refresh). */
export function setPairing(requests: PairingRequest[] | null): void {
  state.pairing = requests;
  renderPairing();
}

function request(pending: Pending & { kind: "pairing.list" | Decision }): void {
  const id = nextId();
  state.pending.set(id, pending);
  const sent = send(pending.kind === "pairing.list" ? { type: pending.kind, id } : { type: pending.kind, id, provider: pending.provider, code: pending.code });
  if (!sent) onPairingRes(pending, { type: "res", id, ok: false, error: { code: "UNAVAILABLE", message: "not connected" } });
  else if (pending.kind !== "pairing.list") showResult("pending", `${pending.kind === "pairing.approve" ? "Approving" : "Rejecting"} ${pending.code}…`);
}

/** The answer to one of this panel's requests. */
export function onPairingRes(p: Pending & { kind: "pairing.list" | Decision }, m: Res): void {
  if (p.kind === "pairing.list") {
    if (m.ok) setPairing(m.payload as PairingRequest[]);
    else showResult("error", describeError(m.error));
    return;
  }
  if (!m.ok) return showResult("error", describeError(m.error));
  const d = m.payload as Decided;
  const where = PROVIDER_NAME[d.provider] ?? d.provider;
  showResult(
    "ok",
    p.kind === "pairing.approve"
      ? `Approved ${d.sender} on ${where} (code ${d.code}): their next message starts a run.`
      : `Rejected ${d.sender} on ${where} (code ${d.code}): they get nothing.`,
  );
  // The backend pushes the new list to every tab; drop the request here at once.
  if (state.pairing) setPairing(state.pairing.filter((r) => !(r.provider === d.provider && r.code === d.code)));
  const input = $<HTMLInputElement>("pairing-code");
  if (input.value.trim().toUpperCase() === d.code) input.value = "";
}

export function wirePairing(): void {
  $("pairing-refresh").addEventListener("click", () => request({ kind: "pairing.list" }));
  $("pairing").addEventListener("click", (e) => {
    const button = (e.target as Element).closest<HTMLButtonElement>("button[data-action]");
    const li = button?.closest("li");
    const provider = li?.getAttribute("data-provider") as ProviderName | null;
    const code = li?.getAttribute("data-code");
    if (!button || !provider || !code) return;
    request({ kind: button.getAttribute("data-action") as Decision, provider, code });
  });
  const form = $<HTMLFormElement>("pairing-form");
  const decide = (kind: Decision) => {
    const code = $<HTMLInputElement>("pairing-code").value.trim().toUpperCase();
    if (!code) return void form.reportValidity();
    request({ kind, provider: $<HTMLSelectElement>("pairing-provider").value as ProviderName, code });
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    decide("pairing.approve");
  });
  $("pairing-reject").addEventListener("click", () => decide("pairing.reject"));
  // The "expires in" countdown, and requests that ran out.
  setInterval(renderPairing, 30_000);
}
