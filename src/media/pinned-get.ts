import { lookup as dnsLookup, type LookupAddress } from "node:dns";

/** Says why the connection must not go to these addresses, or null when it may. */
export type AddressCheck = (addresses: string[]) => Error | null;

/** A server that goes silent this long (connecting, headers or body) fails the fetch. */
const IDLE_TIMEOUT_MS = 60_000;
/** Plain bytes (media is compressed already) and a name some CDNs insist on. */
const HEADERS = { "user-agent": "clawdis-gateway", accept: "*/*", "accept-encoding": "identity" };

/** Statuses whose Response must have a null body. */
const NO_BODY = new Set([204, 205, 304]);

/**
 * One GET (no redirects followed) whose socket connects only to addresses `check` accepted:
 * the check runs inside the DNS lookup the connection itself uses, so the addresses checked
 * are the addresses dialled. `fetch` has no such hook on every runtime; node:http's `lookup`
 * option does (Bun, Node and Deno all call it). An IP-literal host is never looked up: the
 * caller checks literals itself. Answers as a standard Response, body streamed.
 */
export async function pinnedGet(url: URL, check: AddressCheck, signal?: AbortSignal): Promise<Response> {
  // Loaded on the first media fetch, not at start-up.
  const [{ default: http }, { default: https }, { Readable }] = await Promise.all([import("node:http"), import("node:https"), import("node:stream")]);
  let refused: Error | null = null;
  const lookup = (hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      refused = check(addresses.map((a) => a.address));
      if (refused) return callback(refused);
      if (options?.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  const get = url.protocol === "https:" ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { lookup: lookup as never, headers: HEADERS, ...(signal ? { signal } : {}) }, (res) => {
      const status = res.statusCode ?? 502;
      const headers = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
      }
      if (NO_BODY.has(status)) res.resume();
      const body = NO_BODY.has(status) ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
      resolve(new Response(body, { status, headers }));
    });
    // The runtime may wrap the lookup's error: the refusal is reported as thrown.
    req.on("error", (err) => reject(refused ?? err));
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`)));
  });
}
