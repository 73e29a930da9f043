import { lookup } from "node:dns/promises";
import { inCidr, internalRule, ipBytes, type InternalRule } from "../core/ip.ts";
import { pinnedGet } from "./pinned-get.ts";

/** What a URL fetched on a client's (or the agent's) behalf may reach: `media.allowPrivateUrls`, `media.allowUrlHosts`. */
export interface UrlPolicy {
  /** Internal addresses are allowed too (a trusted LAN; tests with a loopback fake server). */
  allowPrivateUrls: boolean;
  /** Host names (exact, case-insensitive), IP addresses or CIDR ranges that may be internal. */
  allowUrlHosts: readonly string[];
}

/** Public internet only: the default. */
export const PUBLIC_ONLY: UrlPolicy = { allowPrivateUrls: false, allowUrlHosts: [] };

/** The rule that refused a URL: an internal address, a scheme, or a redirect chain too long. */
export type UrlRefusalRule = InternalRule | "scheme" | "redirects" | "unresolvable";

/** A URL the gateway will not fetch: `rule` says which rule refused it, the message how to allow it. */
export class UrlRefusedError extends Error {
  constructor(
    readonly rule: UrlRefusalRule,
    message: string,
  ) {
    super(message);
    this.name = "UrlRefusedError";
  }
}

const MAX_REDIRECTS = 5;
/** A name that resolves slowly must not hold a send for long. */
const LOOKUP_TIMEOUT_MS = 10_000;

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function allowedByList(policy: UrlPolicy, host: string, address?: string): boolean {
  return policy.allowUrlHosts.some((entry) => {
    const e = entry.toLowerCase();
    if (ipBytes(e.split("/")[0]!) === null) return e === host;
    return inCidr(host, e) || (address !== undefined && inCidr(address, e));
  });
}

async function resolve(host: string): Promise<string[]> {
  if (ipBytes(host)) return [host];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`DNS lookup took over ${LOOKUP_TIMEOUT_MS} ms`)), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Refuse a URL whose host is, or resolves to, an internal address (loopback, unspecified,
 * link-local, private, unique-local, multicast, reserved), unless the policy allows it.
 * Every address a name resolves to is checked: one internal answer refuses the URL.
 */
export async function assertPublicUrl(raw: string | URL, policy: UrlPolicy = PUBLIC_ONLY): Promise<void> {
  const url = typeof raw === "string" ? new URL(raw) : raw;
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UrlRefusedError("scheme", `${url.href}: only http and https URLs can be fetched (got ${url.protocol})`);
  }
  if (policy.allowPrivateUrls) return;
  const host = hostOf(url);
  if (allowedByList(policy, host)) return;
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw new UrlRefusedError("unresolvable", `${url.href}: host ${host} does not resolve (${(err as Error).message})`);
  }
  const refused = refusal(url, addresses, policy);
  if (refused) throw refused;
}

/** The refusal for the first internal address among `addresses` a URL's host has, or null when all may be reached. */
export function refusal(url: URL, addresses: readonly string[], policy: UrlPolicy): UrlRefusedError | null {
  if (policy.allowPrivateUrls) return null;
  const host = hostOf(url);
  for (const address of addresses) {
    const rule = internalRule(address);
    if (rule === null || allowedByList(policy, host, address)) continue;
    const via = address === host ? "" : ` (${host} resolves to ${address})`;
    return new UrlRefusedError(
      rule,
      `${url.href}: refused, ${rule} address${via}: the gateway does not fetch internal addresses for a client. ` +
        `To allow it, add "${host}" to media.allowUrlHosts (or set media.allowPrivateUrls: true)`,
    );
  }
  return null;
}

/**
 * `fetch` for a URL a client or the agent named: the URL and every redirect hop are checked
 * with `assertPublicUrl` before they are requested (redirects are followed here, at most 5),
 * and the connection itself goes only to addresses checked by the same rule as it is made
 * (`pinnedGet`), so neither a redirect nor a DNS answer that changes between the check and
 * the connection (rebinding) can bounce the gateway onto 127.0.0.1 or the LAN.
 */
export async function fetchPublicUrl(raw: string, policy: UrlPolicy = PUBLIC_ONLY, init: { signal?: AbortSignal } = {}): Promise<Response> {
  let url = new URL(raw);
  for (let hop = 0; ; hop++) {
    await assertPublicUrl(url, policy);
    const res = await pinnedGet(url, (addresses) => refusal(url, addresses, policy), init.signal);
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (location === null) return res;
    await res.body?.cancel().catch(() => {});
    if (hop >= MAX_REDIRECTS) throw new UrlRefusedError("redirects", `${raw}: more than ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url);
  }
}
