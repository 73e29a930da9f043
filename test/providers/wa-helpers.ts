/** A gateway with the fake Baileys peer, for the WhatsApp provider tests. */
import { afterEach } from "bun:test";
import * as v from "valibot";
import type { AgentBackend, AgentTurn } from "../../src/agent/types.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { createGateway, type Gateway } from "../../src/gateway/server.ts";
import { statePaths } from "../../src/paths.ts";
import type { LedgerRecord } from "../../src/protocol/index.ts";
import { WhatsAppAuthStore } from "../../src/providers/whatsapp/auth-store.ts";
import type { WaDownload } from "../../src/providers/whatsapp/chat.ts";
import { TestClient } from "../helpers/client.ts";
import { FakeWaPeer, linkedCreds, type FakeWaSocket } from "../helpers/fake-baileys.ts";
import { tempStateDir } from "../helpers/gateway.ts";

export const ME = "15559990000:7@s.whatsapp.net";

let running: Gateway[] = [];
afterEach(async () => {
  for (const g of running) await g.stop("test over");
  running = [];
});

export async function linkedStateDir(): Promise<string> {
  const dir = tempStateDir();
  await new WhatsAppAuthStore(statePaths(dir).whatsappCreds).saveCreds(linkedCreds(ME));
  return dir;
}

export async function startWa(
  dir: string,
  peer: FakeWaPeer,
  config: Record<string, unknown> = {},
  extra: { agentBackend?: AgentBackend; backoff?: { initialMs: number; maxMs: number }; lock?: boolean; downloadMedia?: WaDownload; typingEveryMs?: number; mediaTimeoutMs?: number } = {},
) {
  const cfg = v.parse(ConfigSchema, { gateway: { port: 0, presenceCoalesceMs: 0 }, ...config });
  const g = createGateway({
    config: cfg,
    stateDir: dir,
    lock: extra.lock ?? false,
    ...(extra.agentBackend ? { agentBackend: extra.agentBackend } : {}),
    whatsapp: {
      makeSocket: peer.factory,
      backoff: extra.backoff ?? { initialMs: 50, maxMs: 200 },
      healthyAfterMs: 300,
      pairingTimeoutMs: 3_000,
      ...(extra.downloadMedia ? { downloadMedia: extra.downloadMedia } : {}),
      ...(extra.typingEveryMs ? { typingEveryMs: extra.typingEveryMs } : {}),
      ...(extra.mediaTimeoutMs ? { mediaTimeoutMs: extra.mediaTimeoutMs } : {}),
    },
  });
  running.push(g);
  const { url } = await g.start();
  return { g, url };
}

export async function health(url: string) {
  const { c } = await TestClient.connect(url);
  const h = (await c.request("health")).payload;
  c.close();
  return h;
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 3_000, what = "condition") {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** A linked gateway whose first socket is open, allowing `allowFrom`. */
export async function openGateway(allowFrom: string[] = ["+15550001111"], config: Record<string, unknown> = {}, extra: Parameters<typeof startWa>[3] = {}) {
  const peer = new FakeWaPeer();
  peer.onSocket = (s) => s.open();
  const dir = await linkedStateDir();
  const { g, url } = await startWa(dir, peer, { ...config, whatsapp: { allowFrom, ...((config.whatsapp as object) ?? {}) } }, extra);
  const sock = await peer.waitForSockets(1);
  await until(async () => (await health(url)).web.connected, 3_000, "connected");
  return { g, url, peer, sock, dir };
}

/** The ledger's inbound record for a provider message id, once it has reached a final status. */
export async function inboundRecord(g: Gateway, messageId: string, status?: LedgerRecord["status"]): Promise<LedgerRecord> {
  let rec: LedgerRecord | undefined;
  await until(() => {
    rec = g.ctx.ledger.inbound("whatsapp", messageId);
    return rec !== undefined && (status ? rec.status === status : rec.status !== "received");
  }, 5_000, `ledger record of ${messageId}${status ? ` as ${status}` : ""}`);
  return rec!;
}

/** Sends seen by the socket to `jid`. */
export const sentTo = (sock: FakeWaSocket, jid: string) => sock.sent.filter((s) => s.jid === jid);

/** An agent that records each turn and answers "re: <message>"; a turn can be held until released. */
export function recordingAgent() {
  const turns: AgentTurn[] = [];
  let hold: Promise<void> = Promise.resolve();
  const backend: AgentBackend = {
    name: "recording",
    async run(turn, _emit, signal) {
      turns.push({ ...turn });
      await Promise.race([hold, new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }))]);
      return { summary: `re: ${turn.message}` };
    },
  };
  return {
    backend,
    turns,
    holdNext() {
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      return () => release();
    },
  };
}
