/// <reference lib="dom" />
/**
 * This tab's half of the sign-in (see ../tab-secret.ts): the secret the backend handed
 * over at sign-in, kept in sessionStorage, which no page on another port can read. A new
 * tab of the same WebChat asks its open siblings for it over a BroadcastChannel (also
 * per origin), so opening a second tab does not mean signing in again; a fresh sign-in
 * in one tab hands its secret to the others, whose cookie it replaced.
 */
import { TAB_SECRET_HEADER } from "../tab-secret.ts";

const KEY = "clawdis-webchat-tab";
/** How long a new tab waits for a sibling's answer before it shows the sign-in form. */
const ASK_MS = 400;

const channel: BroadcastChannel | null = typeof BroadcastChannel === "function" ? new BroadcastChannel(KEY) : null;
let onAdopted: (() => void) | null = null;

function read(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function keep(secret: string): void {
  try {
    sessionStorage.setItem(KEY, secret);
  } catch {}
}

if (channel) {
  channel.onmessage = (e: MessageEvent<{ ask?: true; secret?: string }>) => {
    const mine = read();
    if (e.data?.ask && mine) channel.postMessage({ secret: mine });
    else if (typeof e.data?.secret === "string" && e.data.secret !== mine) {
      keep(e.data.secret);
      onAdopted?.();
    }
  };
}

/** The secret this tab holds, or null. */
export const tabSecret = read;

/** Headers for a `/api/*` request: the secret, when this tab has one. */
export function secretHeaders(): Record<string, string> {
  const secret = read();
  return secret ? { [TAB_SECRET_HEADER]: secret } : {};
}

/** Keep the secret a sign-in returned, and hand it to sibling tabs. */
export function adopt(secret: string): void {
  keep(secret);
  channel?.postMessage({ secret });
}

/**
 * Ask sibling tabs for their secret; resolves true when one arrived within ASK_MS.
 * `later` runs if one arrives after that (the sign-in form is then already shown).
 */
export function askSiblings(later: () => void): Promise<boolean> {
  if (!channel) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onAdopted = later;
      resolve(false);
    }, ASK_MS);
    onAdopted = () => {
      clearTimeout(timer);
      onAdopted = later;
      resolve(true);
    };
    channel.postMessage({ ask: true });
  });
}
