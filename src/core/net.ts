import { networkInterfaces } from "node:os";

/** True for addresses only this host can reach: localhost, 127.0.0.0/8, ::1 (bracketed or not). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h) || h === "::ffff:127.0.0.1";
}

/** An http(s) URL whose host is this machine's loopback (`localhost`, 127/8, ::1). */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopback(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** True when listening failed because the address is taken (Node's, Bun's and Deno's shapes). */
export function isAddrInUse(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string } | null | undefined;
  return e?.code === "EADDRINUSE" || e?.name === "AddrInUse" || /EADDRINUSE|address already in use/i.test(e?.message ?? "");
}

/**
 * Listen, and turn a failure into the caller's own error: `fail` is told whether the
 * address was taken (the usual case, worth its own advice) and the runtime's message.
 */
export async function listenOr<T>(listen: () => Promise<T>, fail: (inUse: boolean, message: string) => Error): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    throw fail(isAddrInUse(err), (err as Error).message);
  }
}

/** A host as it goes into a URL: an IPv6 address in brackets (`::1` → `[::1]`), anything else as is. */
export function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Where a local client reaches a server bound to `bind`: a wildcard bind is reached on loopback. */
export function dialHost(bind: string): string {
  if (bind === "0.0.0.0" || bind === "") return "127.0.0.1";
  if (bind === "::" || bind === "[::]") return "[::1]";
  return urlHost(bind);
}

/** The host name in a `Host` header: "[::1]:18788" → "::1", "127.0.0.1:18788" → "127.0.0.1". */
export function hostHeaderName(hostHeader: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader) ?? /^([^:]+)(?::\d+)?$/.exec(hostHeader);
  return m?.[1] ?? hostHeader;
}

/**
 * The request was addressed to this host by a loopback name. A browser page from another
 * site that rebinds its DNS name to 127.0.0.1 still sends its own name here, so a server
 * that answers without a token refuses it (DNS rebinding).
 */
export function isLoopbackHostHeader(hostHeader: string | undefined): boolean {
  return hostHeader !== undefined && isLoopback(hostHeaderName(hostHeader));
}

/** This host's first non-internal IPv4 address (what presence reports), or `fallback`. */
export function primaryIp(fallback: string): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return fallback;
}
