/** Files of inbound messages: saved, bounded, handed to the agent. Below gateway/: never imports it. */
export { collectCapped, InboundMediaStore, MEDIA_TOO_LARGE, readCapped, takeMedia, type InboundMediaKind, type InboundMediaSink, type MediaCandidate, type MediaLimits } from "./store.ts";
