/** Agent runs: dedupe + idempotency on disk + the registry behind `agent.wait`. Below gateway/: never imports it. */
export { AgentRuns, type AgentRun, type AgentRunsDeps, type RunExtras, type StartOptions } from "./service.ts";
export { IdempotencyStore, type IdemRecord } from "./idempotency.ts";
export { waitForRun } from "./wait.ts";
