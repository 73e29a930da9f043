import { homedir } from "node:os";
import { join } from "node:path";

/** Where clawdis keeps its state: `$CLAWDIS_STATE_DIR`, else `~/.clawdis`. */
export function resolveStateDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.CLAWDIS_STATE_DIR?.trim();
  return fromEnv ? fromEnv : join(homedir(), ".clawdis");
}

/** Every file path under the state dir, named once. */
export function statePaths(stateDir: string) {
  return {
    stateDir,
    config: join(stateDir, "clawdis.json"),
    lock: join(stateDir, "gateway.lock"),
    logDir: join(stateDir, "logs"),
    gatewayLog: join(stateDir, "logs", "gateway.log"),
    idempotency: join(stateDir, "idempotency.jsonl"),
    sessions: join(stateDir, "sessions"),
    whatsappCreds: join(stateDir, "credentials", "whatsapp"),
    ledger: join(stateDir, "ledger"),
    inboundPending: join(stateDir, "inbound"),
    outbox: join(stateDir, "outbox"),
    pairing: join(stateDir, "pairing"),
    mediaInbound: join(stateDir, "media", "inbound"),
  };
}
export type StatePaths = ReturnType<typeof statePaths>;
