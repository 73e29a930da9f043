/** No inbound message lost across a restart: a run cut short by shutdown is answered once after the next start. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentBackend } from "../../src/agent/types.ts";
import { statePaths } from "../../src/paths.ts";
import { FakeWaPeer } from "../helpers/fake-baileys.ts";
import { health, inboundRecord, linkedStateDir, startWa, until } from "./wa-helpers.ts";

const ALICE = "15550001111@s.whatsapp.net";
const config = { whatsapp: { allowFrom: ["+15550001111"] } };

/** An agent that never answers on its own: the run is still going when the gateway stops. */
function stuckBackend(started: () => void): AgentBackend {
  return {
    name: "stuck",
    run: (_turn, _emit, signal) =>
      new Promise((_, reject) => {
        started();
        signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      }),
  };
}

async function interruptedRun(dir: string): Promise<string> {
  const peer = new FakeWaPeer();
  peer.onSocket = (s) => s.open();
  let running = false;
  const { g, url } = await startWa(dir, peer, config, { agentBackend: stuckBackend(() => (running = true)) });
  await until(async () => (await health(url)).web.connected);
  const m = await peer.last.incoming(ALICE, "asked just before a restart");
  await until(() => running, 3_000, "the run to start");
  await g.stop("restart");
  const rec = await inboundRecord(g, m.key.id!, "interrupted");
  expect(rec.reason).toBe("agent run failed: shutdown");
  expect(peer.last.sent).toEqual([]);
  return m.key.id!;
}

describe("restart during an agent run", () => {
  test("the message is answered once after the restart, and not again after a further restart", async () => {
    const dir = await linkedStateDir();
    const id = await interruptedRun(dir);
    expect(readdirSync(statePaths(dir).inboundPending)).toHaveLength(1);

    const peer = new FakeWaPeer();
    peer.onSocket = (s) => setTimeout(() => s.open(), 150); // the reply waits for the connection
    const { g } = await startWa(dir, peer, config);
    await until(() => peer.sockets.length > 0 && peer.last.sent.length > 0, 5_000, "the reply");
    expect(peer.last.sent).toEqual([{ jid: ALICE, content: { text: "asked just before a restart" } }]);
    await inboundRecord(g, id, "replied");
    await until(() => readdirSync(statePaths(dir).inboundPending).length === 0, 2_000, "the pending file to go");
    await g.stop("again");

    const third = new FakeWaPeer();
    third.onSocket = (s) => s.open();
    const { url } = await startWa(dir, third, config);
    await until(async () => (await health(url)).web.connected);
    await Bun.sleep(300);
    expect(third.last.sent).toEqual([]);
  });

  test("a message older than inbound.retryWindowMs is ledgered 'skipped: too old after restart' and not answered", async () => {
    const dir = await linkedStateDir();
    const id = await interruptedRun(dir);
    const pendingDir = statePaths(dir).inboundPending;
    const [file] = readdirSync(pendingDir);
    const p = JSON.parse(readFileSync(join(pendingDir, file!), "utf8"));
    writeFileSync(join(pendingDir, file!), JSON.stringify({ ...p, at: Date.now() - 120_000 }));

    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const { g } = await startWa(dir, peer, { ...config, inbound: { retryWindowMs: 60_000 } });
    const rec = await inboundRecord(g, id, "skipped");
    expect(rec.reason).toBe("too old after restart");
    await Bun.sleep(300);
    expect(peer.last.sent).toEqual([]);
    expect(readdirSync(pendingDir)).toHaveLength(0);
  });
});
