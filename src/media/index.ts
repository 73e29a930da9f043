/** Files of inbound messages: saved, bounded, handed to the agent. Below gateway/: never imports it. */
export {
  collectCapped,
  InboundMediaStore,
  MEDIA_TIMEOUT_MS,
  MEDIA_TOO_LARGE,
  responseSource,
  streamToFile,
  takeMedia,
  type InboundMediaKind,
  type InboundMediaSink,
  type MediaCandidate,
  type MediaLimits,
  type MediaSource,
} from "./store.ts";
