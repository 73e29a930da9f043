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
