/** Files of inbound messages: saved, bounded, handed to the agent. Below gateway/: never imports it. */
export {
  collectCapped,
  InboundMediaStore,
  responseSource,
  takeMedia,
  type InboundMediaSink,
  type MediaCandidate,
  type MediaLimits,
  type MediaSource,
} from "./store.ts";
/** The rule for URLs fetched on someone's behalf (send.mediaUrl, the agent's MEDIA: lines): no internal addresses. */
export { assertPublicUrl, fetchPublicUrl, PUBLIC_ONLY, UrlRefusedError, type UrlPolicy, type UrlRefusalRule } from "./url-guard.ts";
