/** Issue 16 §4/§6 on WhatsApp: the real provider and gateway in-process, the fake Baileys peer at the socket seam. */
import { afterEach, describe, expect, test } from "bun:test";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { createGateway, type Gateway } from "../../src/gateway/server.ts";
import { statePaths } from "../../src/paths.ts";
import { WhatsAppAuthStore } from "../../src/providers/whatsapp/auth-store.ts";
import { TestClient } from "../helpers/client.ts";
import { FakeWaPeer, linkedCreds, type FakeWaSocket } from "../helpers/fake-baileys.ts";
import { tempStateDir } from "../helpers/gateway.ts";

let running: Gateway[] = [];
afterEach(async () => {
  for (const g of running) await g.stop("test over");
  running = [];
});

/** A linked gateway whose WhatsApp socket is open; every send is stamped with the time it reached the peer. */
async function linked(config: Record<string, unknown> = {}) {
  const dir = tempStateDir();
  // A completed link (creds.me and the signed account): only then does the provider connect at start.
  await new WhatsAppAuthStore(statePaths(dir).whatsappCreds).saveCreds(linkedCreds("15559990000:7@s.whatsapp.net"));
  const peer = new FakeWaPeer();
  const stamped: { jid: string; text: string; at: number }[] = [];
  peer.onSocket = (s: FakeWaSocket) => {
    const send = s.sendMessage.bind(s);
    s.sendMessage = async (jid, content) => {
      stamped.push({ jid, text: String(content.text), at: Date.now() });
      return send(jid, content);
    };
    s.open();
  };
  const cfg = v.parse(ConfigSchema, { gateway: { port: 0 }, ...config });
  const g = createGateway({ config: cfg, stateDir: dir, lock: false, whatsapp: { makeSocket: peer.factory, backoff: { initialMs: 50, maxMs: 200 } } });
  running.push(g);
  const { url } = await g.start();
  const { c } = await TestClient.connect(url);
  for (let i = 0; !(await c.request("health")).payload.web.connected; i++) {
    if (i > 200) throw new Error("WhatsApp never connected");
    await Bun.sleep(10);
  }
  return { c, stamped };
}

describe("WhatsApp: paced sends with the defaults (1,000 ms per chat, 20 a minute, 500 ms jitter)", () => {
  test("two sends to one chat at least 1 s apart; another chat is not held up", async () => {
    const { c, stamped } = await linked();
    const key = () => crypto.randomUUID();
    c.send({ type: "req", id: "a", method: "send", params: { to: "+15550001111", message: "one", idempotencyKey: key() } });
    c.send({ type: "req", id: "b", method: "send", params: { to: "+15550001111", message: "two", idempotencyKey: key() } });
    c.send({ type: "req", id: "c", method: "send", params: { to: "+15550002222", message: "other", idempotencyKey: key() } });
    for (const id of ["a", "b", "c"]) expect((await c.next((f) => f.type === "res" && f.id === id, 5_000)).ok).toBe(true);
    const at = Object.fromEntries(stamped.map((s) => [s.text, s.at]));
    expect(stamped.map((s) => s.text)).toEqual(["one", "other", "two"]);
    expect(at.two! - at.one!).toBeGreaterThanOrEqual(1_000);
    expect(at.two! - at.one!).toBeLessThan(1_500 + 1_000); // the jitter is bounded (plus slack for a loaded machine)
    expect(at.other! - at.one!).toBeLessThan(500);
    c.close();
  });
});

describe("WhatsApp: long replies split at whatsapp.maxMessageChars", () => {
  test("a message over the limit goes out as ordered parts within it", async () => {
    const { c, stamped } = await linked({ whatsapp: { maxMessageChars: 1_000, pacing: { perChatMinIntervalMs: 0, jitterMs: 0 } } });
    const text = Array.from({ length: 40 }, (_, i) => `Line ${i}: ${"word ".repeat(10).trim()}.`).join("\n");
    expect(text.length).toBeGreaterThan(2_000);
    const res = await c.request("send", { to: "+15550003333", message: text, idempotencyKey: crypto.randomUUID() });
    expect(res.ok).toBe(true);
    expect(stamped.length).toBe(3);
    for (const s of stamped) expect(s.text.length).toBeLessThanOrEqual(1_000);
    expect(stamped.map((s) => s.text).join("\n")).toBe(text);
    expect(res.payload.messageIds.length).toBe(3);
    c.close();
  });
});
