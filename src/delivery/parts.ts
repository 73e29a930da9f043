import type { ProviderName } from "../protocol/index.ts";
import { renderReply } from "./format/index.ts";
import type { DeliverySend } from "./reply.ts";
import { splitMessage, splitWithCaption } from "./split.ts";
import { live, type DeliveryOptions } from "./types.ts";

type PartOptions = Pick<DeliveryOptions, "format" | "maxChars" | "captionChars">;

/** An agent's reply to a network whose `format` is markdown: rendered for it. */
export function isRendered(params: DeliverySend, provider: ProviderName, opts: Pick<DeliveryOptions, "format">): boolean {
  return params.markdown === true && (opts.format ? live(opts.format)[provider] : "markdown") === "markdown";
}

/** The messages a send goes out as on its provider: rendered or as written, split to the provider's limits (a caption's is shorter). */
export function partsOf(params: DeliverySend, provider: ProviderName, opts: PartOptions): string[] {
  const limit = live(opts.maxChars)[provider];
  const caption = opts.captionChars?.[provider];
  if (isRendered(params, provider, opts)) return renderReply(provider, params.message, limit, params.mediaUrl || params.mediaPath ? Math.min(caption ?? limit, limit) : limit);
  return params.mediaUrl && caption !== undefined && caption < limit
    ? splitWithCaption(params.message, limit, caption)
    : splitMessage(params.message, limit);
}
