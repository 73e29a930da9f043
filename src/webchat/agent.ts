/**
 * A tab's agent run, relayed (backend only: the page imports runs.ts for its types, so
 * what needs the gateway client lives here).
 */
import type { GatewayClient } from "../client/index.ts";
import type { AgentFinal } from "../protocol/index.ts";
import type { BrowserMessage, RelayMessage } from "./messages.ts";
import type { RecentRuns } from "./runs.ts";
import { toRelayError, type Tab } from "./tab.ts";

/** An agent run may take the gateway's whole deadline (10 min by default). */
const AGENT_REQUEST_TIMEOUT_MS = 15 * 60_000;

/** What a tab's agent run needs of the relay. */
export interface AgentRelayDeps {
  client: GatewayClient;
  runs: RecentRuns;
  tab: Tab;
  broadcast(msg: RelayMessage): void;
}

/**
 * One agent run a tab asked for: the tab gets the `ack`, every tab the user's message,
 * and the run is filed in `runs` so a tab opened meanwhile shows it.
 */
export async function relayAgent(deps: AgentRelayDeps, msg: Extract<BrowserMessage, { type: "agent" }>): Promise<AgentFinal> {
  const { client, runs, tab } = deps;
  // The gateway's own default, so tabs file the run under the session it really went to.
  const sessionId = msg.sessionId ?? msg.to ?? "main";
  let runId: string | null = null;
  try {
    // client.agent survives a dropped link: it resumes the stream and asks for the outcome.
    const final = await client.agent(
      {
        message: msg.message,
        ...(msg.sessionId !== undefined ? { sessionId: msg.sessionId } : {}),
        ...(msg.to !== undefined ? { to: msg.to } : {}),
        ...(msg.deliver !== undefined ? { deliver: msg.deliver } : {}),
        idempotencyKey: `webchat:${crypto.randomUUID()}`,
      },
      {
        timeoutMs: AGENT_REQUEST_TIMEOUT_MS,
        onAccepted: (id) => {
          runId = id;
          runs.started(id, sessionId, msg.message);
          tab.send({ type: "ack", id: msg.id, runId: id });
          deps.broadcast({ type: "run", runId: id, sessionId, message: msg.message, ts: Date.now() });
        },
      },
    );
    runs.finished(final.runId, final.status, final.status === "error" ? final.summary : undefined);
    return final;
  } catch (err) {
    if (runId !== null) runs.finished(runId, "error", toRelayError(err).message);
    throw err;
  }
}
