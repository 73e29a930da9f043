/**
 * Issue 21 §2 on WhatsApp: a send that meets a transient Baileys failure (the socket closed
 * mid-send, rate-overlimit) is retried — on the reconnected socket — with the same message
 * id, so WhatsApp keeps one message. The real provider and gateway in-process, the fake
 * Baileys peer at the socket seam, inbound messages through Baileys' own decode path.
 */
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { createGateway, type Gateway } from "../../src/gateway/server.ts";
import { statePaths } from "../../src/paths.ts";
import { WhatsAppAuthStore } from "../../src/providers/whatsapp/auth-store.ts";
import { TestClient } from "../helpers/client.ts";
import { FakeWaPeer, linkedCreds } from "../helpers/fake-baileys.ts";
import { tempStateDir } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const PEER = "15550001111@s.whatsapp.net";
let running: Gateway[] = [];
afterEach(async () => {
  for (const g of running) await g.stop("test over");
  running = [];
});

async function linked() {
  const dir = tempStateDir();
  await new WhatsAppAuthStore(statePaths(dir).whatsappCreds).saveCreds(linkedCreds("15559990000:7@s.whatsapp.net"));
  const peer = new FakeWaPeer();
  peer.onSocket = (s) => s.open();
  const cfg = v.parse(ConfigSchema, {
    gateway: { port: 0 },
    agent: { backend: "echo" },
    whatsapp: { allowFrom: ["+15550001111"], pacing: { perChatMinIntervalMs: 0, jitterMs: 0 } },
  });
  const g = createGateway({ config: cfg, stateDir: dir, lock: false, whatsapp: { makeSocket: peer.factory, backoff: { initialMs: 50, maxMs: 200 } } });
  running.push(g);
  const { url } = await g.start();
  const { c } = await TestClient.connect(url);
  await until(async () => (await c.request("health")).payload.web.connected, "WhatsApp connected");
  return { c, peer };
}

const outbound = async (c: TestClient) => (await c.request("ledger.list", { direction: "outbound", limit: 100 })).payload.records as any[];

describe("WhatsApp: a retried part reuses its message id (issue 21 §2)", () => {
  test("the socket closes mid-reply (428 Connection Closed): the reply goes once, on the new socket, with the same id", async () => {
    const { c, peer } = await linked();
    const first = peer.last;
    // As Baileys does when its socket drops mid-send: the connection closes and the send rejects; the provider reconnects.
    peer.sendFaults.push({ status: 428, message: "Connection Closed", closes: true });
    await first.incoming(PEER, "hello there", "IN-1");
    await until(() => peer.sockets.length === 2 && peer.sockets[1]!.sent.length === 1, "the reply on the reconnected socket", 10_000);
    expect(peer.attempts.map((a) => [a.text, a.failed])).toEqual([
      ["hello there", "Connection Closed"],
      ["hello there", undefined],
    ]);
    expect(peer.attempts[1]!.id).toBe(peer.attempts[0]!.id);
    expect(peer.attempts[0]!.id).toMatch(/^3EB0[0-9A-F]{18}$/);
    expect(first.sent).toEqual([]);
    // The records settle just after the socket took the send: wait for them, then look.
    const rec = await until(async () => (await outbound(c)).find((r) => r.status === "sent"), "the part's record sent", 10_000);
    expect(rec).toMatchObject({ status: "sent", attempts: 2, providerMessageId: peer.attempts[0]!.id });
    expect(rec.lastError).toContain("Connection Closed");
    const inbound = await until(async () => {
      const records = (await c.request("ledger.list", { direction: "inbound", limit: 10 })).payload.records as any[];
      return records.every((r) => r.status !== "received") ? records : null;
    }, "the message's record settled", 10_000);
    expect(inbound.map((r: any) => r.status)).toEqual(["replied"]);
    c.close();
  }, 20_000);

  test("rate-overlimit is retried with the same id; a refusal that will not pass fails at once", async () => {
    const { c, peer } = await linked();
    peer.sendFaults.push({ status: 429, message: "rate-overlimit" });
    const ok = c.request("send", { to: "+15550002222", message: "paced by WhatsApp", idempotencyKey: crypto.randomUUID() });
    await until(() => peer.attempts.length === 2, "the retry", 10_000);
    expect((await ok).ok).toBe(true);
    expect(peer.attempts[1]!.id).toBe(peer.attempts[0]!.id);
    peer.sendFaults.push({ status: 406, message: "not-acceptable" });
    const refused = await c.request("send", { to: "+15550003333", message: "nope", idempotencyKey: crypto.randomUUID() });
    expect(refused.ok).toBe(false);
    expect(refused.error.message).toContain("not-acceptable");
    expect(peer.attempts.filter((a) => a.text === "nope").length).toBe(1);
    c.close();
  }, 20_000);
});
