import { clipUtf8, utf8Length } from "../core/bytes.ts";
import { CloseCode } from "../protocol/index.ts";

/** A frame turned into JSON, or the close code and reason it earns. */
export type Decoded = { ok: true; frame: unknown } | { ok: false; code: CloseCode; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

function bytesOf(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/**
 * One incoming frame → JSON. Text and binary frames are the same protocol: a binary frame
 * holding UTF-8 JSON (the macOS app sends every frame that way) reads exactly like text.
 * Bigger than `limit` bytes: 1009; not UTF-8 or not JSON: 1007; a payload the runtime
 * handed over in a form that cannot be read synchronously (a Blob): 1003.
 */
export function decodeFrame(data: unknown, limit: number): Decoded {
  let text: string;
  if (typeof data === "string") {
    // A UTF-16 unit is at most 3 bytes: count them only when it could matter.
    if (data.length * 3 > limit && utf8Length(data) > limit) return { ok: false, code: CloseCode.MESSAGE_TOO_BIG, reason: `frame exceeds ${limit} bytes` };
    text = data;
  } else {
    const bytes = bytesOf(data);
    if (!bytes) return { ok: false, code: CloseCode.UNSUPPORTED_DATA, reason: "unreadable binary frame: send JSON as text or UTF-8 bytes" };
    if (bytes.byteLength > limit) return { ok: false, code: CloseCode.MESSAGE_TOO_BIG, reason: `frame exceeds ${limit} bytes` };
    try {
      text = utf8.decode(bytes);
    } catch {
      return { ok: false, code: CloseCode.INVALID_JSON, reason: "malformed JSON: binary frame is not UTF-8" };
    }
  }
  try {
    return { ok: true, frame: JSON.parse(text) };
  } catch (err) {
    return { ok: false, code: CloseCode.INVALID_JSON, reason: `malformed JSON: ${(err as Error).message}` };
  }
}

/** Close reasons travel in a control frame: at most 123 UTF-8 bytes. */
export function clipReason(reason: string): string {
  return clipUtf8(reason, 123);
}
