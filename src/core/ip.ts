import { isIP } from "node:net";

/** Why an address is internal: the rule a media URL fetch names when it refuses one. */
export type InternalRule = "loopback" | "unspecified" | "link-local" | "private" | "unique-local" | "multicast" | "reserved";

/** An address as bytes (4 for IPv4, 16 for IPv6), or null when `ip` is not an IP literal. */
export function ipBytes(ip: string): number[] | null {
  const bare = ip.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const kind = isIP(bare);
  if (kind === 4) return bare.split(".").map(Number);
  if (kind !== 6) return null;
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  let text = bare;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, -quad[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const parts = (s: string | undefined) => (s ? s.split(":").filter((x) => x !== "") : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

function v4Rule([a, b]: number[]): InternalRule | null {
  if (a === 127) return "loopback";
  // 0.0.0.0/8: "this host" — connecting to 0.0.0.0 reaches the local machine on Linux.
  if (a === 0) return "unspecified";
  if (a === 169 && b === 254) return "link-local";
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168)) return "private";
  // 100.64/10 (carrier-grade NAT) reaches the provider's inside network, not the internet.
  if (a === 100 && b! >= 64 && b! <= 127) return "private";
  if (a! >= 224 && a! <= 239) return "multicast";
  if (a! >= 240) return "reserved";
  return null;
}

/**
 * The rule an address falls under when it is not a public internet address, else null.
 * IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, the old compatible
 * ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that IPv4 address.
 */
export function internalRule(ip: string): InternalRule | null {
  const b = ipBytes(ip);
  if (!b) return null;
  if (b.length === 4) return v4Rule(b);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 15) && b[15] === 1) return "loopback";
  if (zeros(0, 16)) return "unspecified";
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4Rule(b.slice(12));
  if (zeros(0, 12)) return v4Rule(b.slice(12));
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return v4Rule(b.slice(12));
  if (b[0] === 0x20 && b[1] === 0x02) return v4Rule(b.slice(2, 6));
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "link-local";
  // fec0::/10, site-local: deprecated, but still an inside network where it is used.
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return "private";
  if ((b[0]! & 0xfe) === 0xfc) return "unique-local";
  if (b[0] === 0xff) return "multicast";
  return null;
}

/** `ip` lies in `cidr` (`10.0.0.0/8`, `fd00::/8`, or one address); both of the same family. */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split("/");
  const a = ipBytes(ip);
  const n = ipBytes(net ?? "");
  if (!a || !n || a.length !== n.length) return false;
  const bits = bitsText === undefined ? a.length * 8 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > a.length * 8) return false;
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> i % 8;
    if ((a[i >> 3]! & mask) !== (n[i >> 3]! & mask)) return false;
  }
  return true;
}
