/**
 * WhatsApp inbound as Baileys 7 rc14 delivers it: every message below is a stanza run
 * through Baileys' own decode path by the fake socket (decryptMessageNode →
 * decodeMessageNode, LID mapping, cleanMessage), then through the real provider, the
 * gateway's inbound policy, the agent (echo backend) and the ledger.
 */
import { describe, expect, test } from "bun:test";
import { stanza } from "../helpers/fake-baileys.ts";
import { inboundRecord, openGateway, sentTo, until } from "./wa-helpers.ts";

const ALICE_PN = "15550001111@s.whatsapp.net";
const ALICE_LID = "244837192837465@lid";

describe("direct messages reach allowFrom as rc14 keys them", () => {
  test("a PN direct message (key.participant is \"\") gets exactly one reply, to its own chat", async () => {
    const { g, sock } = await openGateway();
    const m = await sock.receive(stanza.direct(ALICE_PN, { conversation: "hello pn" }, { alt: ALICE_LID }));
    // What Baileys really hands over: an empty participant, the LID as remoteJidAlt.
    expect(m.key).toMatchObject({ remoteJid: ALICE_PN, participant: "", remoteJidAlt: ALICE_LID, addressingMode: "pn" });
    const rec = await inboundRecord(g, m.key.id!);
    expect(rec.status).toBe("replied");
    expect(sock.sent).toEqual([{ jid: ALICE_PN, content: { text: "hello pn" } }]);
  });

  test("a LID direct message with sender_pn is matched by the phone number and answered in the LID chat", async () => {
    const { g, sock } = await openGateway();
    const m = await sock.receive(stanza.direct(ALICE_LID, { conversation: "hello lid" }, { alt: ALICE_PN }));
    expect(m.key).toMatchObject({ remoteJid: ALICE_LID, remoteJidAlt: ALICE_PN, participant: "", addressingMode: "lid" });
    expect((await inboundRecord(g, m.key.id!)).status).toBe("replied");
    expect(sock.sent).toEqual([{ jid: ALICE_LID, content: { text: "hello lid" } }]);
  });

  test("a LID direct message without sender_pn is resolved through the socket's LID mapping", async () => {
    const { g, sock } = await openGateway();
    // Learned earlier (Baileys stores the pair when a message carries both addresses).
    await sock.signalRepository.lidMapping.storeLIDPNMappings([{ lid: ALICE_LID, pn: ALICE_PN }]);
    const m = await sock.receive(stanza.direct(ALICE_LID, { conversation: "mapped" }));
    expect(m.key.remoteJidAlt).toBeUndefined();
    expect((await inboundRecord(g, m.key.id!)).status).toBe("replied");
    expect(sentTo(sock, ALICE_LID)).toHaveLength(1);
  });

  test("LID digits are never read as a phone number", async () => {
    // The LID's digits equal an allowed number; with no phone known, the sender is not allowed.
    const { g, sock } = await openGateway(["+15550001111"]);
    const m = await sock.receive(stanza.direct("15550001111@lid", { conversation: "lookalike" }));
    const rec = await inboundRecord(g, m.key.id!);
    expect(rec).toMatchObject({ status: "skipped", reason: "sender not in whatsapp.allowFrom" });
    await Bun.sleep(100);
    expect(sock.sent).toEqual([]);
  });

  test("a sender not in allowFrom is skipped with the reason", async () => {
    const { g, sock } = await openGateway();
    const m = await sock.incoming("15557777777@s.whatsapp.net", "spam");
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "skipped", reason: "sender not in whatsapp.allowFrom" });
    expect(sock.sent).toEqual([]);
  });
});

describe("chats that never get a reply", () => {
  test("status posts, broadcast lists and channel posts: no reply, a skipped record with the reason", async () => {
    const { g, sock } = await openGateway(["*"]);
    const status = await sock.receive(stanza.broadcast(ALICE_PN, { extendedTextMessage: { text: "my status" } }));
    const list = await sock.receive(stanza.broadcast(ALICE_PN, { conversation: "to my list" }, { list: "1700000000@broadcast" }));
    const channel = await sock.receive(stanza.newsletter("120363000000000001@newsletter", { conversation: "channel post" }));
    expect(status.key).toMatchObject({ remoteJid: "status@broadcast", participant: ALICE_PN });
    expect(await inboundRecord(g, status.key.id!)).toMatchObject({ status: "skipped", chat: "status@broadcast", reason: expect.stringContaining("status update") });
    expect(await inboundRecord(g, list.key.id!)).toMatchObject({ status: "skipped", reason: expect.stringContaining("broadcast list") });
    expect(await inboundRecord(g, channel.key.id!)).toMatchObject({ status: "skipped", reason: expect.stringContaining("newsletter") });
    await Bun.sleep(150);
    expect(sock.sent).toEqual([]);
  });

  test("groups are off by default: a group line from an allowed number gets no reply (ledger: group not allowed)", async () => {
    const { g, sock } = await openGateway(["+15550001111"]);
    const m = await sock.receive(stanza.group("120363025246125486@g.us", ALICE_LID, { conversation: "hi group" }, { alt: ALICE_PN }));
    expect(m.key).toMatchObject({ remoteJid: "120363025246125486@g.us", participant: ALICE_LID, participantAlt: ALICE_PN });
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "skipped", reason: "group not allowed" });
    await Bun.sleep(150);
    expect(sock.sent).toEqual([]);
  });
});

describe("wrapped and captioned text is read", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["disappearing chat", { ephemeralMessage: { message: { extendedTextMessage: { text: "ephemeral text" } } } }, "ephemeral text"],
    ["document with caption", { documentWithCaptionMessage: { message: { documentMessage: { caption: "doc caption", fileName: "a.pdf" } } } }, "doc caption"],
    ["video caption", { videoMessage: { caption: "video caption", mimetype: "video/mp4" } }, "video caption"],
    ["image caption", { imageMessage: { caption: "image caption", mimetype: "image/jpeg" } }, "image caption"],
  ];
  for (const [name, message, text] of cases) {
    test(name, async () => {
      const { g, sock } = await openGateway();
      const m = await sock.receive(stanza.direct(ALICE_PN, message));
      expect((await inboundRecord(g, m.key.id!)).status).toBe("replied");
      expect(sock.sent).toEqual([{ jid: ALICE_PN, content: { text } }]);
    });
  }
});

describe("messages delivered while the gateway was down (append)", () => {
  test("an offline append DM 2 minutes old is answered once, the agent told when it was written", async () => {
    const { g, sock } = await openGateway();
    const m = await sock.receive(stanza.direct(ALICE_PN, { conversation: "sent while you were away" }, { offline: true, t: Math.floor(Date.now() / 1000) - 120 }));
    expect(sock.upserts.at(-1)!.type).toBe("append");
    expect((await inboundRecord(g, m.key.id!)).status).toBe("replied");
    // The server may hand the same message over again: still one reply.
    await sock.receive(stanza.direct(ALICE_PN, { conversation: "sent while you were away" }, { offline: true, id: m.key.id! }));
    await until(() => g.ctx.ledger.list({ status: "duplicate" }).length === 1);
    // The echo backend answers with what it was given: the age, then the words.
    expect(sock.sent).toEqual([{ jid: ALICE_PN, content: { text: expect.stringMatching(/^\[written \d\d:\d\d, 2 min ago\]\nsent while you were away$/) } }]);
  });

  test("an offline append older than inbound.lateAnswerWindowMs is ledgered skipped (too old), not answered; the chat gets the late notice", async () => {
    const { g, sock } = await openGateway(["+15550001111"], { inbound: { lateAnswerWindowMs: 60_000 } });
    const m = await sock.receive(stanza.direct(ALICE_PN, { conversation: "ancient" }, { offline: true, t: Math.floor(Date.now() / 1000) - 3_600 }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "skipped", reason: "too old" });
    await until(() => sock.sent.length === 1);
    await Bun.sleep(150);
    expect(sock.sent).toEqual([{ jid: ALICE_PN, content: { text: expect.stringMatching(/^I was offline when you wrote at \d\d:\d\d\. Send it again if it still matters\.$/) } }]);
  });
});

describe("stale sockets", () => {
  test("a replaced socket's late messages change nothing", async () => {
    const { g, peer, sock } = await openGateway();
    sock.close(428, "connection closed");
    const second = await peer.waitForSockets(2);
    second.open();
    const late = await sock.incoming(ALICE_PN, "from the old socket");
    await Bun.sleep(200);
    expect(g.ctx.ledger.inbound("whatsapp", late.key.id!)).toBeUndefined();
    expect(second.sent).toEqual([]);
  });
});
