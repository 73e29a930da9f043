/** Inbound policies (allow-list, pairing, groups, mentions). Below gateway/: never imports it. */
export { InboundGate, senderIds } from "./gate.ts";
export { PAIRING_ALPHABET, PAIRING_MAX_PENDING, PAIRING_TTL_MS, PairingStore, newPairingCode, pairingReplyText } from "./pairing.ts";
export { chatSessionId, decide, REASONS, senderAllowed, type ChatPolicy, type Decision, type InboundFacts, type PairingFacts } from "./policy.ts";
export { InboundFlow, agentInput, type FlowSettings } from "./flow.ts";
export { handleChatMessage, inboundRunKey, runChatMessage, type ChatMessage, type ChatRunParams, type InboundDeps, type InboundLedger } from "./handle.ts";
export { answerCommand, HELP_TEXT, parseCommand, runCommand, type CommandDeps, type CommandName, type StatusFacts } from "./commands.ts";
export { APPROVED_TEXT, welcomeApproved, type HeldMessage } from "./approved.ts";
export { TurnContext } from "./turn-context.ts";
