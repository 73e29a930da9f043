/**
 * Issue 21 on WhatsApp, through the real provider and gateway with the fake Baileys peer
 * (messages built through Baileys' own decode path): one chat, one order (§3), photos as
 * one turn (§4), view-once and message kinds (§6), disappearing chats (§7), the socket's
 * caches and the session of a contact seen by LID (§8).
 */
import { describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { AgentBackend, AgentTurn } from "../../src/agent/types.ts";
import type { WaDownload } from "../../src/providers/whatsapp/chat.ts";
import { FakeWaPeer, stanza } from "../helpers/fake-baileys.ts";
import { inboundRecord, openGateway, sentTo, startWa, until } from "./wa-helpers.ts";

const ALICE = "15550001111@s.whatsapp.net";
const ALICE_LID = "88001112223334@lid";
const texts = (sent: { content: Record<string, unknown> }[]) => sent.map((s) => String(s.content.text));

/** The agent's stand-in: records each turn in the order runs execute, answers "re: <message>". */
function recordingAgent() {
  const turns: AgentTurn[] = [];
  const backend: AgentBackend = {
    name: "recording",
    async run(turn) {
      turns.push(turn);
      return { summary: `re: ${turn.message}` };
    },
  };
  return { backend, turns };
}

/** The media download seam: the file's bytes, after `delayMs` (a slow media host). */
function slowHost(delayMs: number) {
  const state = { calls: 0 };
  const download: WaDownload = async () => {
    state.calls++;
    return (async function* () {
      await Bun.sleep(delayMs);
      yield new Uint8Array(1_500).fill(7);
    })();
  };
  return { state, download };
}

const image = (caption?: string) => ({
  imageMessage: { mediaKey: new Uint8Array(32).fill(1), directPath: "/v/t62/x.enc", fileEncSha256: new Uint8Array(32), fileSha256: new Uint8Array(32), fileLength: 1_500, mimetype: "image/jpeg", ...(caption ? { caption } : {}) },
});

describe("One chat, one order (§3)", () => {
  test("a photo still downloading, then a text: run in that order, replies in that order", async () => {
    const agent = recordingAgent();
    const host = slowHost(800);
    const { sock } = await openGateway(["+15550001111"], { inbound: { albumWindowMs: 200 } }, { agentBackend: agent.backend, downloadMedia: host.download });
    await sock.receive(stanza.direct(ALICE, image()));
    await sock.incoming(ALICE, "what plant is this?");
    await until(() => sentTo(sock, ALICE).length === 2, 8_000, "two replies");
    expect(agent.turns.map((t) => [t.message, t.media?.length ?? 0])).toEqual([
      // A photo without words reaches the agent as its placeholder (issue 23 §3).
      ["[photo]", 1],
      ["what plant is this?", 0],
    ]);
    expect(texts(sentTo(sock, ALICE))).toEqual(["re: [photo]", "re: what plant is this?"]);
  });

  test("an offline batch (one upsert) is answered in the order it was written", async () => {
    const agent = recordingAgent();
    const host = slowHost(300);
    const { sock } = await openGateway(["+15550001111"], { inbound: { albumWindowMs: 200 } }, { agentBackend: agent.backend, downloadMedia: host.download });
    const t = Math.floor(Date.now() / 1000) - 30;
    await sock.receiveBatch([
      stanza.direct(ALICE, image("first, a photo"), { offline: true, t }),
      stanza.direct(ALICE, { conversation: "second" }, { offline: true, t }),
      stanza.direct(ALICE, { conversation: "third" }, { offline: true, t: t + 1 }),
    ]);
    expect(sock.upserts.at(-1)).toMatchObject({ type: "append" });
    expect(sock.upserts.at(-1)!.messages.length).toBe(3);
    await until(() => sentTo(sock, ALICE).length === 3, 8_000, "three replies");
    expect(texts(sentTo(sock, ALICE))).toEqual(["re: first, a photo", "re: second", "re: third"]);
  });
});

describe("Photos sent together are one turn (§4)", () => {
  test("three photos from one sender: one run with all three, one reply; the others are merged into the first; a text after them comes after", async () => {
    const agent = recordingAgent();
    const host = slowHost(50);
    const { g, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend, downloadMedia: host.download });
    const ms = [await sock.receive(stanza.direct(ALICE, image())), await sock.receive(stanza.direct(ALICE, image("the garden"))), await sock.receive(stanza.direct(ALICE, image()))];
    await sock.incoming(ALICE, "which plant is it?");
    const head = await inboundRecord(g, ms[0]!.key.id!, "replied");
    expect(agent.turns[0]!.message).toBe("the garden");
    expect(agent.turns[0]!.media?.length).toBe(3);
    for (const m of ms.slice(1)) expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "skipped", reason: `merged into ${head.id}` });
    await until(() => sentTo(sock, ALICE).length === 2, 5_000, "two replies");
    await Bun.sleep(300);
    expect(agent.turns.map((t) => t.message)).toEqual(["the garden", "which plant is it?"]);
    expect(texts(sentTo(sock, ALICE))).toEqual(["re: the garden", "re: which plant is it?"]);
  });

  test("inbound.debounceMs merges consecutive texts into one turn, joined by newlines", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway(["+15550001111"], { inbound: { debounceMs: 300 } }, { agentBackend: agent.backend });
    const a = await sock.incoming(ALICE, "hi");
    const b = await sock.incoming(ALICE, "are you there?");
    const head = await inboundRecord(g, a.key.id!, "replied");
    expect(await inboundRecord(g, b.key.id!)).toMatchObject({ status: "skipped", reason: `merged into ${head.id}` });
    expect(agent.turns.map((t) => t.message)).toEqual(["hi\nare you there?"]);
    expect(texts(sentTo(sock, ALICE))).toEqual(["re: hi\nare you there?"]);
  });
});

describe("Every kind of message leaves a trace (§6)", () => {
  test("a view-once photo (unavailable to linked devices) gets the notice; the ledger says view-once", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend });
    const m = await sock.receive(stanza.viewOnce(ALICE));
    expect((m.key as { isViewOnce?: boolean }).isViewOnce).toBe(true);
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "skipped", reason: "view-once" });
    await until(() => sentTo(sock, ALICE).length === 1, 3_000, "the notice");
    expect(texts(sentTo(sock, ALICE))).toEqual(["I can't open view-once media — please send it normally."]);
    expect(agent.turns).toEqual([]);
  });

  test("a location, a contact card and a poll reach the agent as placeholders; a reaction and a deletion are ledgered with their kind", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend });
    const vcard = "BEGIN:VCARD\nVERSION:3.0\nFN:Ada Lovelace\nTEL;type=CELL;waid=442079460000:+44 20 7946 0000\nEND:VCARD";
    const loc = await sock.receive(stanza.direct(ALICE, { locationMessage: { degreesLatitude: 48.8606, degreesLongitude: 2.3376, name: "Louvre Museum" } }));
    await inboundRecord(g, loc.key.id!, "replied");
    const card = await sock.receive(stanza.direct(ALICE, { contactMessage: { displayName: "Ada Lovelace", vcard } }));
    await inboundRecord(g, card.key.id!, "replied");
    const poll = await sock.receive(stanza.direct(ALICE, { pollCreationMessageV3: { name: "Lunch?", options: [{ optionName: "pizza" }, { optionName: "salad" }], selectableOptionsCount: 1 } }));
    expect(await inboundRecord(g, poll.key.id!, "replied")).toMatchObject({ kind: "poll" });
    expect(agent.turns.map((t) => t.message)).toEqual(['[location 48.8606,2.3376 "Louvre Museum"]', "[contact: Ada Lovelace +44 20 7946 0000]", "[poll: Lunch? — pizza / salad]"]);
    const reaction = await sock.receive(stanza.direct(ALICE, { reactionMessage: { key: { id: loc.key.id, remoteJid: ALICE }, text: "👍" } }));
    expect(await inboundRecord(g, reaction.key.id!)).toMatchObject({ status: "skipped", reason: "reaction" });
    const revoke = await sock.receive(stanza.direct(ALICE, { protocolMessage: { type: 0, key: { id: card.key.id, remoteJid: ALICE } } }));
    expect(await inboundRecord(g, revoke.key.id!)).toMatchObject({ status: "skipped", reason: "deleted message" });
    await Bun.sleep(200);
    expect(agent.turns.length).toBe(3);
    expect(sentTo(sock, ALICE).length).toBe(3);
  });
});

describe("Disappearing chats stay disappearing (§7)", () => {
  test("a reply in a chat with disappearing messages carries its expiration; a plain chat's does not", async () => {
    const { g, sock } = await openGateway(["*"]);
    const week = 604_800;
    const m = await sock.receive(stanza.direct(ALICE, { ephemeralMessage: { message: { extendedTextMessage: { text: "this vanishes", contextInfo: { expiration: week } } } } }));
    await inboundRecord(g, m.key.id!, "replied");
    expect(sentTo(sock, ALICE)).toEqual([{ jid: ALICE, content: { text: "this vanishes" }, options: { ephemeralExpiration: week } }]);
    const BOB = "15550002222@s.whatsapp.net";
    const plain = await sock.incoming(BOB, "this stays");
    await inboundRecord(g, plain.key.id!, "replied");
    expect(sentTo(sock, BOB)).toEqual([{ jid: BOB, content: { text: "this stays" } }]);
    // The chat turns it off: the next reply no longer carries it.
    await sock.receive(stanza.direct(ALICE, { protocolMessage: { type: 3, ephemeralExpiration: 0 } }));
    const after = await sock.incoming(ALICE, "and now?");
    await inboundRecord(g, after.key.id!, "replied");
    expect(sentTo(sock, ALICE).at(-1)).toEqual({ jid: ALICE, content: { text: "and now?" } });
  });
});

describe("The socket's caches and the contact's session (§8)", () => {
  test("status posts and channels are ignored at the socket; group metadata is cached and refreshed on change", async () => {
    const { sock } = await openGateway(["*"]);
    const ignore = sock.config.shouldIgnoreJid!;
    expect([ignore("status@broadcast"), ignore("120363000000000001@newsletter"), ignore(ALICE), ignore("120363025246125486@g.us")]).toEqual([true, true, false, false]);
    const GROUP = "120363025246125486@g.us";
    const cached = sock.config.cachedGroupMetadata!;
    expect((await cached(GROUP))?.subject).toBe("Plants");
    await cached(GROUP);
    expect(sock.groupMetadataCalls).toEqual([GROUP]);
    sock.emit("group-participants.update", { id: GROUP, participants: [ALICE], action: "add" });
    await cached(GROUP);
    sock.emit("groups.update", [{ id: GROUP, subject: "Plants & trees" }]);
    await cached(GROUP);
    expect(sock.groupMetadataCalls).toEqual([GROUP, GROUP, GROUP]);
  });

  test("a recipient's retry request after a restart is still answered from the sends kept on disk (0600)", async () => {
    const { g, sock, dir } = await openGateway(["+15550001111"]);
    const m = await sock.incoming(ALICE, "remember me");
    await inboundRecord(g, m.key.id!, "replied");
    const sentKey = { remoteJid: ALICE, fromMe: true, id: sock.peer.attempts.at(-1)!.id };
    expect(await sock.retryRequest(sentKey)).toMatchObject({ conversation: "remember me" });
    await g.stop("restart");
    expect(statSync(join(dir, "whatsapp", "sent.jsonl")).mode & 0o777).toBe(0o600);
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    await startWa(dir, peer, { whatsapp: { allowFrom: ["+15550001111"] } });
    const again = await peer.waitForSockets(1);
    expect(await again.retryRequest(sentKey)).toMatchObject({ conversation: "remember me" });
    expect(await again.retryRequest({ ...sentKey, id: "WAMID-unknown" })).toBeUndefined();
  });

  test("a contact first seen by phone JID, then by LID, keeps one conversation (session keyed by the phone JID)", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend });
    const byPn = await sock.incoming(ALICE, "one");
    await inboundRecord(g, byPn.key.id!, "replied");
    const byLid = await sock.receive(stanza.direct(ALICE_LID, { conversation: "two" }, { alt: ALICE }));
    expect(byLid.key.remoteJid).toBe(ALICE_LID);
    await inboundRecord(g, byLid.key.id!, "replied");
    expect(agent.turns.map((t) => t.sessionId)).toEqual([`whatsapp:${ALICE}`, `whatsapp:${ALICE}`]);
    expect(agent.turns[1]!.history).toEqual([{ user: "one", assistant: "re: one" }]);
    // The reply still goes to the chat as WhatsApp addressed it.
    expect(texts(sentTo(sock, ALICE_LID))).toEqual(["re: two"]);
  });
});
