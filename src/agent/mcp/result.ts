import { sliceChars } from "../../core/bytes.ts";
import type { McpCallResult } from "./server.ts";

/** An image a tool returned, for the model (as a data URL part) where the API takes images. */
export interface ToolImage {
  mime: string;
  /** base64 */
  data: string;
}

/** A tool result as the model gets it: text for the `tool` message, images beside it. */
export interface ToolOutput {
  ok: boolean;
  text: string;
  images: ToolImage[];
}

/** An image past this many base64 characters (~6 MB) is described, not sent. */
const MAX_IMAGE_CHARS = 8 * 1024 * 1024;
const MAX_IMAGES = 4;

/** Cut text past `max` characters, saying so (the model should know it saw a part). */
export function capText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${sliceChars(text, max)}\n[truncated: the result was ${text.length} characters; only the first ${max} are shown]`;
}

/**
 * MCP content blocks to what the model can read: text as is, images kept aside (the Chat
 * Completions `tool` message takes text only), anything else named in a short note.
 */
export function toolOutput(result: McpCallResult, maxChars: number): ToolOutput {
  const parts: string[] = [];
  const images: ToolImage[] = [];
  for (const block of result.content ?? []) {
    const b = block as { type?: string; text?: string; data?: string; mimeType?: string; uri?: string; resource?: { uri?: string; text?: string } };
    if (b.type === "text" && typeof b.text === "string") parts.push(b.text);
    else if (b.type === "image" && typeof b.data === "string") {
      const mime = b.mimeType ?? "image/png";
      if (images.length < MAX_IMAGES && b.data.length <= MAX_IMAGE_CHARS) {
        images.push({ mime, data: b.data });
        parts.push(`[image ${mime}: attached below]`);
      } else parts.push(`[image ${mime}: too large or too many to attach]`);
    } else if (b.type === "resource" && b.resource) {
      parts.push(typeof b.resource.text === "string" ? b.resource.text : `[resource ${b.resource.uri ?? ""}]`);
    } else if (b.type === "resource_link") parts.push(`[resource link ${b.uri ?? ""}]`);
    else parts.push(`[${b.type ?? "unknown"} content]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined) parts.push(JSON.stringify(result.structuredContent));
  return { ok: result.isError !== true, text: capText(parts.join("\n"), maxChars), images };
}
