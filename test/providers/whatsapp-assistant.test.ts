/**
 * Issue 23 on WhatsApp, through the real provider and gateway with the fake Baileys peer
 * (every stanza decoded by Baileys' own receive path): the owner's own chat ("Message
 * yourself"), the gateway never answering itself (also after a restart), the owner's
 * messages to others, read receipts, edits, chat commands and a voice note's placeholder.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { WaDownload } from "../../src/providers/whatsapp/chat.ts";
import { FakeWaPeer, stanza } from "../helpers/fake-baileys.ts";
import { inboundRecord, linkedStateDir, openGateway, recordingAgent, sentTo, startWa, until } from "./wa-helpers.ts";

const ALICE = "15550001111@s.whatsapp.net";
const BOB = "15550002222@s.whatsapp.net";
/** The linked account (wa-helpers' ME) as its own chat, by phone JID and by LID, and its phone as a device. */
const SELF_PN = "15559990000@s.whatsapp.net";
const SELF_LID = "99887766554433@lid";
const PHONE = "15559990000:0@s.whatsapp.net";
const PHONE_LID = "99887766554433:0@lid";

describe("your own number: the self chat (§1)", () => {
  test("a message in the self chat (phone JID or LID) is answered there, whatever allowFrom says; the gateway's own reply shown back is not input", async () => {
    const agent = recordingAgent();
    // Nobody is allowed to write in private: the owner still is, in their own chat.
    const { g, sock } = await openGateway([], {}, { agentBackend: agent.backend });
    const mine = await sock.receive(stanza.own(PHONE, SELF_PN, { conversation: "remind me what's up" }));
    expect(mine.key.fromMe).toBe(true);
    expect(await inboundRecord(g, mine.key.id!)).toMatchObject({ status: "replied", chat: SELF_PN });
    expect(sentTo(sock, SELF_PN).map((s) => s.content)).toEqual([{ text: "re: remind me what's up" }]);
    expect(agent.turns[0]).toMatchObject({ sessionId: `whatsapp:${SELF_PN}`, message: "remind me what's up" });

    // WhatsApp shows our reply back (another device's sync): same id, fromMe, in the self chat.
    const sentId = sock.peer.attempts.at(-1)!.id;
    const echo = await sock.receive(stanza.own(PHONE, SELF_PN, { conversation: "re: remind me what's up" }, { id: sentId }));
    expect(echo.key.fromMe).toBe(true);
    // The LID form of the self chat is the same chat.
    const byLid = await sock.receive(stanza.own(PHONE_LID, SELF_LID, { conversation: "and by lid?" }));
    expect(await inboundRecord(g, byLid.key.id!)).toMatchObject({ status: "replied", chat: SELF_LID });
    expect(g.ctx.ledger.inbound("whatsapp", sentId)).toBeUndefined();
    expect(agent.turns.map((t) => t.message)).toEqual(["remind me what's up", "and by lid?"]);
  });

  test("the ids the gateway sent are known after a restart: an echo then is still not input", async () => {
    const dir = await linkedStateDir();
    const agent = recordingAgent();
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const first = await startWa(dir, peer, {}, { agentBackend: agent.backend });
    const sock = await peer.waitForSockets(1);
    await until(() => first.g.ctx.providers.status("whatsapp").connected, 3_000, "connected");
    const m = await sock.receive(stanza.own(PHONE, SELF_PN, { conversation: "note to self" }));
    expect(await inboundRecord(first.g, m.key.id!)).toMatchObject({ status: "replied" });
    const sentId = peer.attempts.at(-1)!.id;
    await first.g.stop("restart");

    const peer2 = new FakeWaPeer();
    peer2.onSocket = (s) => s.open();
    const second = await startWa(dir, peer2, {}, { agentBackend: agent.backend });
    const sock2 = await peer2.waitForSockets(1);
    await until(() => second.g.ctx.providers.status("whatsapp").connected, 3_000, "connected again");
    // The offline queue hands our earlier reply back after the restart.
    await sock2.receive(stanza.own(PHONE, SELF_PN, { conversation: "re: note to self" }, { id: sentId, offline: true }));
    const next = await sock2.receive(stanza.own(PHONE, SELF_PN, { conversation: "second note" }));
    expect(await inboundRecord(second.g, next.key.id!)).toMatchObject({ status: "replied" });
    expect(second.g.ctx.ledger.inbound("whatsapp", sentId)).toBeUndefined();
    expect(agent.turns.map((t) => t.message)).toEqual(["note to self", "second note"]);
  });

  test("a message the owner writes to someone else starts nothing; whatsapp.selfChat: false skips the self chat", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway(["*"], {}, { agentBackend: agent.backend });
    const toAlice = await sock.receive(stanza.own(PHONE, ALICE, { conversation: "see you at 8" }));
    expect(toAlice.key).toMatchObject({ fromMe: true, remoteJid: ALICE });
    // A later message answered: by then the one before was long decided on.
    const fromAlice = await sock.incoming(ALICE, "ok!");
    expect(await inboundRecord(g, fromAlice.key.id!)).toMatchObject({ status: "replied" });
    expect(g.ctx.ledger.inbound("whatsapp", toAlice.key.id!)).toBeUndefined();
    expect(agent.turns.map((t) => t.message)).toEqual(["ok!"]);

    const off = await openGateway([], { whatsapp: { selfChat: false } }, { agentBackend: agent.backend });
    const mine = await off.sock.receive(stanza.own(PHONE, SELF_PN, { conversation: "hello me" }));
    expect(await inboundRecord(off.g, mine.key.id!)).toMatchObject({ status: "skipped", reason: "self chat off (whatsapp.selfChat: false)" });
    expect(sentTo(off.sock, SELF_PN)).toEqual([]);
  });
});

describe("read receipts (§7)", () => {
  test("a message that starts a run is marked read; a skipped one is not; whatsapp.readReceipts: false sends none", async () => {
    const { g, sock } = await openGateway(["+15550001111"]);
    const asked = await sock.incoming(ALICE, "are you there?");
    expect(await inboundRecord(g, asked.key.id!)).toMatchObject({ status: "replied" });
    const stranger = await sock.incoming(BOB, "hi");
    expect(await inboundRecord(g, stranger.key.id!)).toMatchObject({ status: "skipped" });
    expect(sock.reads).toEqual([expect.objectContaining({ id: asked.key.id, remoteJid: ALICE })]);

    const off = await openGateway(["+15550001111"], { whatsapp: { readReceipts: false } });
    const m = await off.sock.incoming(ALICE, "quiet please");
    expect(await inboundRecord(off.g, m.key.id!)).toMatchObject({ status: "replied" });
    expect(off.sock.reads).toEqual([]);
  });
});

describe("edits (§5) and a voice note without words (§3)", () => {
  const edit = (id: string, text: string) => ({
    protocolMessage: { type: 14, key: { remoteJid: ALICE, fromMe: false, id }, editedMessage: { conversation: text } },
  });

  test("an edit of a queued message replaces its text; an edit after the reply is skipped, or with answerEdits a new (edited) turn", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend });
    const release = agent.holdNext();
    const busy = await sock.incoming(ALICE, "first question");
    await until(() => agent.turns.length === 1, 3_000, "the first run");
    const queued = await sock.incoming(ALICE, "teh typo");
    await until(() => g.ctx.ledger.inbound("whatsapp", queued.key.id!)?.runId !== undefined, 3_000, "the second run queued");
    const fix = await sock.receive(stanza.direct(ALICE, edit(queued.key.id!, "the typo, fixed")));
    expect(await inboundRecord(g, fix.key.id!)).toMatchObject({ status: "skipped", reason: "edit applied to the queued turn" });
    release();
    expect(await inboundRecord(g, queued.key.id!)).toMatchObject({ status: "replied" });
    expect(await inboundRecord(g, busy.key.id!)).toMatchObject({ status: "replied" });
    expect(agent.turns.map((t) => t.message)).toEqual(["first question", "the typo, fixed"]);
    // The session remembers the edited text as the turn's question.
    const late = await sock.receive(stanza.direct(ALICE, edit(busy.key.id!, "first question, reworded")));
    expect(await inboundRecord(g, late.key.id!)).toMatchObject({ status: "skipped", reason: "edited after reply" });
    expect(agent.turns).toHaveLength(2);
    expect(sentTo(sock, ALICE).map((s) => s.content.text)).toEqual(["re: first question", "re: the typo, fixed"]);

    const answering = await openGateway(["+15550001111"], { inbound: { answerEdits: true } }, { agentBackend: agent.backend });
    const q = await answering.sock.incoming(ALICE, "what is 2+2");
    expect(await inboundRecord(answering.g, q.key.id!)).toMatchObject({ status: "replied" });
    const e = await answering.sock.receive(stanza.direct(ALICE, edit(q.key.id!, "what is 2+3")));
    expect(await inboundRecord(answering.g, e.key.id!)).toMatchObject({ status: "replied" });
    expect(sentTo(answering.sock, ALICE).map((s) => s.content.text)).toEqual(["re: what is 2+2", "re: (edited) what is 2+3"]);
  });

  test("a voice note without words reaches the agent as [voice note 0:12]", async () => {
    const agent = recordingAgent();
    // The file's bytes are beside the point here (whatsapp-chats covers Baileys' media decryption).
    const downloadMedia = (async () => (async function* () {
      yield new Uint8Array([1, 2, 3]);
    })()) as WaDownload;
    const { g, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend, downloadMedia });
    const voice = { ptt: true, seconds: 12, mimetype: "audio/ogg; codecs=opus", mediaKey: new Uint8Array(32).fill(7), directPath: "/v/voice.enc" };
    const m = await sock.receive(stanza.direct(ALICE, { audioMessage: voice }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied", media: [expect.objectContaining({ kind: "audio", bytes: 3 })] });
    expect(agent.turns[0]?.message).toBe("[voice note 0:12]");
    expect(sentTo(sock, ALICE).map((s) => s.content.text)).toEqual(["re: [voice note 0:12]"]);
  });
});

describe("chat commands on WhatsApp (§2)", () => {
  test("/status answers without a run; /STOP ends the run in progress and confirms; /new starts over with no earlier turns", async () => {
    const agent = recordingAgent();
    const { g, sock, dir } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend });
    const hello = await sock.incoming(ALICE, "hello");
    expect(await inboundRecord(g, hello.key.id!)).toMatchObject({ status: "replied" });
    const release = agent.holdNext();
    const long = await sock.incoming(ALICE, "write me an essay");
    await until(() => agent.turns.length === 2, 3_000, "the run");
    const status = await sock.incoming(ALICE, "/status");
    expect(await inboundRecord(g, status.key.id!)).toMatchObject({ status: "replied", command: "status" });
    const stop = await sock.incoming(ALICE, "/STOP please");
    expect(await inboundRecord(g, stop.key.id!)).toMatchObject({ status: "replied", command: "stop" });
    expect(await inboundRecord(g, long.key.id!)).toMatchObject({ status: "failed", reason: "stopped by /stop" });
    release();
    const fresh = await sock.incoming(ALICE, "/reset");
    expect(await inboundRecord(g, fresh.key.id!)).toMatchObject({ status: "replied", command: "new" });
    const again = await sock.incoming(ALICE, "who am I talking to?");
    expect(await inboundRecord(g, again.key.id!)).toMatchObject({ status: "replied" });

    const texts = sentTo(sock, ALICE).map((s) => String(s.content.text));
    expect(texts[0]).toBe("re: hello");
    expect(texts[1]).toContain("Backend: recording");
    expect(texts[1]).toContain("Conversation: 1 turn");
    expect(texts[1]).toContain("Runs: 1 running, 0 queued");
    expect(texts[1]).toContain("whatsapp: connected");
    expect(texts.slice(2)).toEqual(["Stopped the reply in progress.", "New conversation started (the last one, 1 turn, is kept on disk).", "re: who am I talking to?"]);
    // The commands never reached the agent; the turn after /new has no earlier turns and a new session id.
    expect(agent.turns.map((t) => t.message)).toEqual(["hello", "write me an essay", "who am I talking to?"]);
    expect(agent.turns[1]!.history).toEqual([{ user: "hello", assistant: "re: hello" }]);
    expect(agent.turns[2]!.history).toEqual([]);
    expect(agent.turns[2]!.session?.id).not.toBe(agent.turns[0]!.session?.id);
    expect(agent.turns[2]!.session?.isNew).toBe(true);
    expect(readdirSync(join(dir, "sessions")).some((f) => f.startsWith("whatsapp%3a15550001111%40s.whatsapp.net.jsonl.ended-"))).toBe(true);
  });
});
