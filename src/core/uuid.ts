import { createHash } from "node:crypto";

/** The namespace of clawdis' session UUIDs (a fixed random UUID: changing it changes every session's UUID). */
export const SESSION_UUID_NAMESPACE = "6f1c2a4e-8b7d-4c39-9e21-5a0d3f8b6c17";

/**
 * RFC 4122 version-5 UUID of `name` in `namespace`: SHA-1 of the namespace's 16 bytes
 * and the name's UTF-8, version and variant bits set. The same name gives the same UUID
 * on every run and every runtime, which is what CLIs keyed by a session UUID need.
 */
export function uuidV5(name: string, namespace = SESSION_UUID_NAMESPACE): string {
  const ns = Uint8Array.from(namespace.replace(/-/g, "").match(/../g)!, (h) => parseInt(h, 16));
  const hash = new Uint8Array(createHash("sha1").update(ns).update(new TextEncoder().encode(name)).digest());
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = Array.from(hash.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
