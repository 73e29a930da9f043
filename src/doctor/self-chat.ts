import type { LoadedConfig } from "../config/load.ts";
import { configOrDefaults, ok, warn, type Finding } from "./finding.ts";

/**
 * WhatsApp on your own number (`whatsapp.selfChat`, the default) with a door open to
 * strangers: under `dmPolicy: "open"` (or `allowFrom: ["*"]`) anyone who writes to you
 * gets the assistant's answers from your account; under `"pairing"` every stranger gets a
 * pairing code from you. Fine on a dedicated number, which says so with `selfChat: false`.
 */
export function checkSelfChat(loaded: LoadedConfig | null): Finding {
  const wa = configOrDefaults(loaded).whatsapp;
  if (!wa.selfChat) return ok("whatsapp-self", "whatsapp.selfChat is off (a dedicated number)");
  const open = wa.dmPolicy === "open" || wa.allowFrom.includes("*");
  if (!open && wa.dmPolicy !== "pairing") return ok("whatsapp-self", "self chat on; only whatsapp.allowFrom reaches the assistant in private");
  const what = open
    ? `whatsapp.${wa.dmPolicy === "open" ? 'dmPolicy is "open"' : 'allowFrom is ["*"]'}: anyone who writes to your number gets the assistant's answers from your account`
    : 'whatsapp.dmPolicy is "pairing": every stranger who writes to your number gets a pairing code from your account';
  return warn(
    "whatsapp-self",
    `whatsapp.selfChat is on (the set-up for your own number) and ${what}`,
    'on your own number keep whatsapp.dmPolicy "allowlist" with the people you mean; on a dedicated number set whatsapp.selfChat: false',
  );
}
