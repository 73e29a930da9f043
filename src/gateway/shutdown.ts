import type { AgentRunner } from "../agent/runner.ts";
import type { McpHub } from "../agent/mcp/hub.ts";
import type { Delivery } from "../delivery/index.ts";
import type { Logger } from "../log.ts";
import { CloseCode, type ShutdownEvent } from "../protocol/index.ts";
import type { Providers } from "../providers/index.ts";
import type { Listening } from "../runtime/index.ts";
import type { DiskWatch } from "../store/disk-full.ts";
import type { Broadcaster } from "./broadcast.ts";
import type { Connection } from "./connection.ts";
import type { GatewayContext } from "./context.ts";
import type { Presence } from "./presence.ts";

/** What the stop sequence takes down, in its order. */
export interface ShutdownParts {
  ctx: GatewayContext;
  log: Logger;
  /** Timers and the config watcher: nothing new is started. */
  quiet: () => void;
  delivery: Delivery;
  disk: DiskWatch;
  presence: Presence;
  agent: AgentRunner;
  broadcaster: Broadcaster;
  connections: Iterable<Connection>;
  /** Read when its turn comes: a stop during start closes what start bound by then. */
  listening: () => Listening | null;
  providers: Providers;
  mcp: McpHub;
  releaseLock: () => void;
}

/**
 * The stop sequence: work in flight settles before clients hear `shutdown`, clients hear it
 * before their sockets close, and the chat networks go last.
 */
export async function shutdown(p: ShutdownParts, reason: string, restartExpectedMs?: number): Promise<void> {
  p.quiet();
  await p.delivery.stop();
  p.disk.stop();
  p.presence.stop();
  p.broadcaster.stop();
  // Runs in flight end first (final status "error", summary "shutdown"), then the event.
  p.agent.abortAll();
  // The whole run chain (delivery, idempotency record) settles, then its final res goes out.
  await p.ctx.agentRuns.settled(1_500);
  await new Promise((r) => setTimeout(r, 0));
  const payload: ShutdownEvent = { reason };
  if (restartExpectedMs !== undefined) payload.restartExpectedMs = restartExpectedMs;
  p.broadcaster.broadcast("shutdown", payload);
  for (const conn of [...p.connections]) conn.close(CloseCode.GOING_AWAY, `gateway shutting down: ${reason}`);
  // Let the kernel take the queued shutdown/close frames before sockets are torn down.
  await new Promise((r) => setTimeout(r, 150));
  const closing = p.listening()?.close() ?? Promise.resolve();
  await Promise.race([closing, new Promise((r) => setTimeout(r, 2_000))]);
  await p.providers.stop();
  await p.mcp.stop();
  p.log.info("gateway stopped", { reason });
  p.releaseLock();
}
