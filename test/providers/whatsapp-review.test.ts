/**
 * Issue 16 review on WhatsApp, through the real provider and gateway with the fake
 * Baileys peer: a queued send and a queued chat reply survive a kill -9 (the state dir
 * as it was at that instant) and go out once; refused messages' files are never fetched;
 * a stalled media download is given up; long replies; a full pairing queue; lastSendAt.
 */
import { describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WaDownload } from "../../src/providers/whatsapp/chat.ts";
import { TestClient } from "../helpers/client.ts";
import { FakeWaPeer, stanza } from "../helpers/fake-baileys.ts";
import { health, inboundRecord, openGateway, startWa, sentTo, until } from "./wa-helpers.ts";

const ALICE = "15550001111@s.whatsapp.net";
const texts = (sent: { content: Record<string, unknown> }[]) => sent.map((s) => String(s.content.text));

/** A download seam that counts its calls and hands out a stream that never yields (a stalled media host). */
function stalledHost() {
  const state = { calls: 0, destroyed: 0 };
  const download: WaDownload = async () => {
    state.calls++;
    const stream = (async function* () {
      await new Promise(() => {});
      yield new Uint8Array(0);
    })() as AsyncGenerator<Uint8Array> & { destroy?: () => void };
    stream.destroy = () => void state.destroyed++;
    return stream;
  };
  return { state, download };
}

const image = { mediaKey: new Uint8Array(32).fill(1), directPath: "/v/t62/x.enc", fileEncSha256: new Uint8Array(32), fileSha256: new Uint8Array(32), fileLength: 3_000, mimetype: "image/jpeg" };

/** What a kill -9 leaves: the state directory as it is at this instant, copied aside. */
function snapshot(dir: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), "clawdis-kill9-")), "state");
  cpSync(dir, copy, { recursive: true });
  return copy;
}

describe("WhatsApp: a queued send survives a kill -9 (review of issue 16, points 1 and 9)", () => {
  const pacing = { whatsapp: { allowFrom: ["+15550001111"], pacing: { perChatMinIntervalMs: 60_000, perMinute: 20, jitterMs: 0 } } };

  test("a `send` queued behind the chat gap goes out once after the restart, with its key", async () => {
    const { g, url, sock, dir } = await openGateway(["+15550001111"], pacing);
    const { c } = await TestClient.connect(url);
    expect((await c.request("send", { to: "+15550001111", message: "first", provider: "whatsapp", idempotencyKey: "k-first" })).ok).toBe(true);
    void c.request("send", { to: "+15550001111", message: "second", provider: "whatsapp", idempotencyKey: "k-second" }).catch(() => {});
    await until(() => g.ctx.ledger.byIdempotencyKey("k-second")?.status === "queued", 3_000, "the second send queued");
    const copy = snapshot(dir);
    c.close();
    expect(texts(sentTo(sock, ALICE))).toEqual(["first"]);

    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    // The gap is counted from the send before the restart: lift it so the test need not wait a minute.
    const { g: g2 } = await startWa(copy, peer, { whatsapp: { ...pacing.whatsapp, pacing: { perChatMinIntervalMs: 0, perMinute: 20, jitterMs: 0 } } });
    await until(() => g2.ctx.ledger.byIdempotencyKey("k-second")?.status === "sent", 5_000, "the queued send after the restart");
    await Bun.sleep(300);
    expect(texts(sentTo(peer.last, ALICE))).toEqual(["second"]);
    expect(readdirSync(join(copy, "outbox")).filter((n) => n.endsWith(".json"))).toEqual([]);
  });

  test("a chat reply queued at the kill goes out once; the message is not run again and ends replied", async () => {
    const { g, sock, dir } = await openGateway(["+15550001111"], pacing);
    const one = await sock.incoming(ALICE, "one");
    await inboundRecord(g, one.key.id!, "replied");
    const two = await sock.incoming(ALICE, "two");
    await until(() => g.ctx.ledger.byIdempotencyKey(`inbound:whatsapp:${two.key.id}:deliver`)?.status === "queued", 3_000, "the reply queued");
    const copy = snapshot(dir);

    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const { g: g2 } = await startWa(copy, peer, { whatsapp: { ...pacing.whatsapp, pacing: { perChatMinIntervalMs: 0, perMinute: 20, jitterMs: 0 } } });
    await inboundRecord(g2, two.key.id!, "replied");
    await Bun.sleep(500);
    expect(texts(sentTo(peer.last, ALICE))).toEqual(["two"]);
    expect(g2.ctx.ledger.byIdempotencyKey(`inbound:whatsapp:${two.key.id}:after-restart:deliver`)).toBeUndefined();
  });
});

describe("WhatsApp inbound media is fetched only for messages let in (review of issue 16, points 2 and 5)", () => {
  test("a stranger's photo is never downloaded, nothing is stored, the skipped record names no file", async () => {
    const host = stalledHost();
    const { g, sock, dir } = await openGateway(["+15550009999"], {}, { downloadMedia: host.download });
    const m = await sock.receive(stanza.direct(ALICE, { imageMessage: { ...image, caption: "hello?" } }));
    const rec = await inboundRecord(g, m.key.id!);
    expect(rec).toMatchObject({ status: "skipped", reason: "sender not in whatsapp.allowFrom" });
    expect(rec.media).toBeUndefined();
    expect(host.state.calls).toBe(0);
    const media = join(dir, "media", "inbound");
    expect(existsSync(media) ? readdirSync(media) : []).toEqual([]);
  });

  test("a stalled media download is given up after the timeout, its stream destroyed; the caption still runs", async () => {
    const host = stalledHost();
    const { g, sock } = await openGateway(["+15550001111"], {}, { downloadMedia: host.download, mediaTimeoutMs: 300 });
    const m = await sock.receive(stanza.direct(ALICE, { imageMessage: { ...image, caption: "look" } }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    expect(host.state.calls).toBe(1);
    expect(host.state.destroyed).toBe(1);
    expect(g.ctx.ledger.inbound("whatsapp", `${m.key.id}:media`)).toMatchObject({ status: "skipped", reason: "media not downloaded: the download took longer than 0.3 s" });
    expect(texts(sentTo(sock, ALICE))).toEqual(["look"]);
  });
});

describe("WhatsApp Done-when gaps (review of issue 16, point 9)", () => {
  test("a 9,000-character reply at the default maxMessageChars goes out as ordered parts of ≤ 4,096 under one key", async () => {
    const { g, url, sock } = await openGateway(["+15550001111"], { whatsapp: { pacing: { perChatMinIntervalMs: 0, perMinute: 60, jitterMs: 0 } } });
    const long = Array.from({ length: 60 }, (_, i) => `Paragraph ${i}. ${"Words that make up a sentence here. ".repeat(4).trim()}`).join("\n\n");
    expect(long.length).toBeGreaterThan(9_000);
    const { c } = await TestClient.connect(url);
    const res = await c.request("send", { to: "+15550001111", message: long, provider: "whatsapp", idempotencyKey: "long-1" });
    c.close();
    expect(res.ok).toBe(true);
    const parts = texts(sentTo(sock, ALICE));
    expect(parts.length).toBe(3);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(4_096);
    expect(parts.join("").replace(/\s+/g, "")).toBe(long.replace(/\s+/g, ""));
    expect(res.payload.messageIds).toHaveLength(3);
    expect([1, 2, 3].map((i) => g.ctx.ledger.byIdempotencyKey(i === 1 ? "long-1" : `long-1:part${i}`)?.status)).toEqual(["sent", "sent", "sent"]);
  });

  test("pairing: a fourth stranger gets nothing while three requests wait (pairing queue full)", async () => {
    const { g, url, sock } = await openGateway([], { whatsapp: { dmPolicy: "pairing", pacing: { perChatMinIntervalMs: 0, perMinute: 60, jitterMs: 0 } } });
    const strangers = ["15550000001", "15550000002", "15550000003", "15550000004"].map((n) => `${n}@s.whatsapp.net`);
    const ids: string[] = [];
    for (const s of strangers) ids.push((await sock.incoming(s, "hello")).key.id!);
    for (const id of ids.slice(0, 3)) expect(await inboundRecord(g, id)).toMatchObject({ status: "skipped", reason: "pairing requested" });
    expect(await inboundRecord(g, ids[3]!)).toMatchObject({ status: "skipped", reason: "pairing queue full" });
    await until(() => strangers.slice(0, 3).every((s) => sentTo(sock, s).length === 1), 3_000, "three codes");
    await Bun.sleep(200);
    expect(sentTo(sock, strangers[3]!)).toEqual([]);
    const { c } = await TestClient.connect(url);
    expect((await c.request("pairing.list")).payload).toHaveLength(3);
    c.close();
  });

  test("health.web.lastSendAt is set when a send went out", async () => {
    const { url } = await openGateway(["+15550001111"], { whatsapp: { pacing: { perChatMinIntervalMs: 0, perMinute: 60, jitterMs: 0 } } });
    expect((await health(url)).web.lastSendAt).toBeUndefined();
    const before = Date.now();
    const { c } = await TestClient.connect(url);
    expect((await c.request("send", { to: "+15550001111", message: "hi", provider: "whatsapp", idempotencyKey: "last-1" })).ok).toBe(true);
    c.close();
    const h = await health(url);
    expect(h.web.lastSendAt).toBeGreaterThanOrEqual(before);
    expect(h.web.lastSendAt).toBeLessThanOrEqual(Date.now());
  });
});

describe("lastInboundAt reaches health on arrival, coalesced (review of issue 16, point 10)", () => {
  test("a burst of messages pushes lastInboundAt at once, in at most one health event a second", async () => {
    const { url, sock } = await openGateway([]);
    const { c } = await TestClient.connect(url);
    // The helper's healthyAfterMs (300 ms) sends a status change of its own: let it pass first.
    await Bun.sleep(500);
    const before = Date.now();
    const withInbound = () => c.events("health").filter((e: any) => typeof e.payload.web?.lastInboundAt === "number");
    for (let i = 0; i < 10; i++) await sock.incoming(ALICE, `burst ${i}`);
    // At once: well before the 30 s tick.
    await until(() => withInbound().length > 0, 1_500, "a health event with lastInboundAt");
    expect(withInbound()[0]!.payload.web.lastInboundAt).toBeGreaterThanOrEqual(before);
    await Bun.sleep(1_300);
    const events = withInbound();
    // The first message's, then at most one for the rest of the burst.
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThanOrEqual(2);
    c.close();
  });
});
