/**
 * Issue 16 on WhatsApp, through the real provider and gateway with the fake Baileys peer
 * (every inbound stanza runs through Baileys' own decode path): pairing, groups with
 * mentions and quotes, replies quoting the message, typing (composing → paused), inbound
 * media (Baileys' real media encryption and decryption), keep-alive loss, lastInboundAt.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { downloadEncryptedContent, encryptedStream, getMediaKeys, type proto } from "@whiskeysockets/baileys";
import type { WaDownload } from "../../src/providers/whatsapp/chat.ts";
import { TestClient } from "../helpers/client.ts";
import { stanza } from "../helpers/fake-baileys.ts";
import { health, inboundRecord, openGateway, recordingAgent, sentTo, until } from "./wa-helpers.ts";

const ALICE = "15550001111@s.whatsapp.net";
const BOB = "15550002222@s.whatsapp.net";
const GROUP = "120363000000000001@g.us";
const ME_PN = "15559990000@s.whatsapp.net";
const ME_LID = "99887766554433@lid";

const mention = (text: string, jids: string[]): proto.IMessage => ({ extendedTextMessage: { text, contextInfo: { mentionedJid: jids } } });

describe("WhatsApp groups (§2)", () => {
  const groups = { whatsapp: { groups: { policy: "allowlist", allow: [GROUP] } } };

  test("unmentioned lines are skipped; a mention (PN or LID) or a quote of our message runs in the group's session, answered quoting it", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway([], groups, { agentBackend: agent.backend });
    const plain = await sock.receive(stanza.group(GROUP, ALICE, { conversation: "just talking" }));
    expect(await inboundRecord(g, plain.key.id!)).toMatchObject({ status: "skipped", reason: "not mentioned" });

    const byPn = await sock.receive(stanza.group(GROUP, ALICE, mention("@15559990000 hi", [ME_PN])));
    expect(await inboundRecord(g, byPn.key.id!)).toMatchObject({ status: "replied", chat: GROUP });
    const reply = sentTo(sock, GROUP)[0]!;
    // The mention reads as the account's name (issue 23 §4), not its digits.
    expect(reply.content).toEqual({ text: "re: @Test Phone hi" });
    // The reply quotes the triggering message (Baileys needs the whole WAMessage for that).
    expect(reply.options?.quoted?.key.id).toBe(byPn.key.id);

    const byLid = await sock.receive(stanza.group(GROUP, BOB, mention("@99887766554433 and you?", [ME_LID])));
    expect(await inboundRecord(g, byLid.key.id!)).toMatchObject({ status: "replied" });

    const ours = sentTo(sock, GROUP)[0]!;
    const quote = {
      extendedTextMessage: { text: "why?", contextInfo: { stanzaId: "WAMID1", participant: ME_PN, quotedMessage: { conversation: String(ours.content.text) } } },
    };
    const quoted = await sock.receive(stanza.group(GROUP, ALICE, quote));
    expect(await inboundRecord(g, quoted.key.id!)).toMatchObject({ status: "replied" });
    // Someone else's message quoted is not addressed to us.
    const other = { extendedTextMessage: { text: "right", contextInfo: { stanzaId: "X1", participant: BOB, quotedMessage: { conversation: "x" } } } };
    const notUs = await sock.receive(stanza.group(GROUP, ALICE, other));
    expect(await inboundRecord(g, notUs.key.id!)).toMatchObject({ status: "skipped", reason: "not mentioned" });

    expect(agent.turns.map((t) => t.sessionId)).toEqual([`whatsapp:${GROUP}`, `whatsapp:${GROUP}`, `whatsapp:${GROUP}`]);
  });

  test("a group not let in is skipped; the sender allow-list applies to private chats only", async () => {
    const { g, sock } = await openGateway([ALICE.replace(/@.*/, "").replace(/^/, "+")], {});
    const m = await sock.receive(stanza.group(GROUP, ALICE, mention("@me hi", [ME_PN])));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "skipped", reason: "group not allowed" });
    const open = await openGateway([], { whatsapp: { groups: { policy: "open", requireMention: false } } });
    const any = await open.sock.receive(stanza.group(GROUP, BOB, { conversation: "anyone?" }));
    expect(await inboundRecord(open.g, any.key.id!)).toMatchObject({ status: "replied" });
  });
});

describe("WhatsApp pairing (§1)", () => {
  test("a stranger gets exactly one code; once approved, the next message starts a run", async () => {
    const { g, url, sock } = await openGateway([], { whatsapp: { dmPolicy: "pairing" } });
    const first = await sock.receive(stanza.direct(BOB, { conversation: "hello?" }, { pushName: "Bob" }));
    expect(await inboundRecord(g, first.key.id!)).toMatchObject({ status: "skipped", reason: "pairing requested" });
    await until(() => sentTo(sock, BOB).length === 1, 3_000, "the code");
    const second = await sock.receive(stanza.direct(BOB, { conversation: "hello??" }));
    expect(await inboundRecord(g, second.key.id!)).toMatchObject({ status: "skipped", reason: "pairing pending" });
    const { c } = await TestClient.connect(url);
    const [req] = (await c.request("pairing.list")).payload;
    expect(req).toMatchObject({ provider: "whatsapp", sender: BOB, name: "Bob" });
    expect(String(sentTo(sock, BOB)[0]!.content.text)).toContain(req.code);
    expect((await c.request("pairing.approve", { provider: "whatsapp", code: req.code })).ok).toBe(true);
    // Issue 23 §7: told, and the message that got the code answered (echo backend).
    expect(await inboundRecord(g, first.key.id!, "replied")).toMatchObject({ status: "replied" });
    const third = await sock.receive(stanza.direct(BOB, { conversation: "thanks" }));
    expect(await inboundRecord(g, third.key.id!)).toMatchObject({ status: "replied" });
    expect(sentTo(sock, BOB).map((s) => s.content.text)).toEqual([sentTo(sock, BOB)[0]!.content.text, "You're approved — ask away.", "hello?", "thanks"]);
    c.close();
  });
});

describe("WhatsApp typing (§3) and lastInboundAt (§7)", () => {
  test("composing at once (renewed) while the run works, paused on its final, nothing after", async () => {
    const agent = recordingAgent();
    const { g, url, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend, typingEveryMs: 200 });
    const release = agent.holdNext();
    const m = await sock.incoming(ALICE, "think hard");
    await until(() => sock.presence.filter((p) => p.type === "composing").length >= 2, 3_000, "composing, renewed");
    expect(sock.presence.every((p) => p.jid === ALICE && p.type === "composing")).toBe(true);
    release();
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    await until(() => sock.presence.at(-1)?.type === "paused", 3_000, "paused");
    const n = sock.presence.length;
    await Bun.sleep(500);
    expect(sock.presence.length).toBe(n);
    expect((await health(url)).web.lastInboundAt).toBeGreaterThan(Date.now() - 10_000);
  });

  test("a shutdown during the run ends the typing with paused", async () => {
    const agent = recordingAgent();
    const { g, sock } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend });
    agent.holdNext();
    await sock.incoming(ALICE, "never finishes");
    await until(() => sock.presence.some((p) => p.type === "composing"), 3_000, "composing");
    await g.stop("test shutdown");
    expect(sock.presence.at(-1)).toMatchObject({ type: "paused", jid: ALICE });
  });

  test("whatsapp.typing: false shows nothing", async () => {
    const { g, sock } = await openGateway(["+15550001111"], { whatsapp: { typing: false } });
    const m = await sock.incoming(ALICE, "quietly");
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    expect(sock.presence).toEqual([]);
  });
});

/** Media as WhatsApp carries it: encrypted by Baileys, served from a (local) media host, keys in the message. */
async function mediaHost() {
  const files = new Map<string, Uint8Array>();
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => {
    const body = files.get(new URL(req.url).pathname);
    return body ? new Response(body as unknown as BodyInit) : new Response("gone", { status: 404 });
  } });
  return {
    /** Encrypt `data` as Baileys does for an upload; the message fields that point at it. */
    async upload(data: Uint8Array, type: "image" | "audio" | "document") {
      const enc = await encryptedStream(Buffer.from(data), type);
      const path = `/v/t62/${crypto.randomUUID()}.enc`;
      files.set(path, new Uint8Array(readFileSync(enc.encFilePath)));
      await rm(enc.encFilePath, { force: true });
      return { mediaKey: enc.mediaKey, directPath: path, fileEncSha256: enc.fileEncSha256, fileSha256: enc.fileSha256, fileLength: enc.fileLength };
    },
    /** The provider's download seam: Baileys' own decryption, from this host instead of mmg.whatsapp.net. */
    download: (async (content, type) =>
      downloadEncryptedContent(`http://127.0.0.1:${server.port}${content.directPath}`, await getMediaKeys(content.mediaKey, type))) as WaDownload,
    stop: () => server.stop(true),
  };
}

describe("WhatsApp inbound media (§5)", () => {
  test("a photo is decrypted, stored 0600 under <state>/media/inbound, handed to the agent and in the ledger", async () => {
    const host = await mediaHost();
    try {
      const agent = recordingAgent();
      const { g, sock, dir } = await openGateway(["+15550001111"], {}, { agentBackend: agent.backend, downloadMedia: host.download });
      const jpeg = new Uint8Array(3_000).map((_, i) => (i * 13) & 0xff);
      const image = { ...(await host.upload(jpeg, "image")), mimetype: "image/jpeg", caption: "what is this?" };
      const m = await sock.receive(stanza.direct(ALICE, { imageMessage: image }));
      const rec = await inboundRecord(g, m.key.id!);
      expect(rec.status).toBe("replied");
      const media = agent.turns[0]!.media!;
      expect(media).toEqual([{ kind: "image", mime: "image/jpeg", bytes: 3_000, path: expect.stringContaining(join(dir, "media", "inbound")) }]);
      expect(new Uint8Array(readFileSync(media[0]!.path))).toEqual(jpeg);
      expect(statSync(media[0]!.path).mode & 0o777).toBe(0o600);
      expect(agent.turns[0]!.message).toBe("what is this?");
      expect(rec.media).toEqual(media);
    } finally {
      host.stop();
    }
  });

  test("a voice note over media.maxInboundBytes is skipped (media too large); a captioned document still runs", async () => {
    const host = await mediaHost();
    try {
      const agent = recordingAgent();
      const { g, sock } = await openGateway(["+15550001111"], { media: { maxInboundBytes: 1_000 } }, { agentBackend: agent.backend, downloadMedia: host.download });
      const voice = { ...(await host.upload(new Uint8Array(5_000), "audio")), mimetype: "audio/ogg; codecs=opus", ptt: true };
      const v = await sock.receive(stanza.direct(ALICE, { audioMessage: voice }));
      await until(() => g.ctx.ledger.inbound("whatsapp", `${v.key.id}:media`) !== undefined, 3_000, "the media record");
      expect(g.ctx.ledger.inbound("whatsapp", `${v.key.id}:media`)).toMatchObject({ status: "skipped", reason: "media too large" });
      const doc = { ...(await host.upload(new Uint8Array(4_000), "document")), mimetype: "application/pdf", fileName: "a.pdf", caption: "read it" };
      const d = await sock.receive(stanza.direct(ALICE, { documentMessage: doc }));
      expect(await inboundRecord(g, d.key.id!)).toMatchObject({ status: "replied" });
      // Issue 21 §6: the agent is told of each file it could not get, with or without a caption.
      expect(agent.turns.map((t) => [t.message, t.media ?? []])).toEqual([
        ["[audio, 4.9 KiB: not downloaded, over the limit]", []],
        ["read it\n[document a.pdf, 3.9 KiB: not downloaded, over the limit]", []],
      ]);
    } finally {
      host.stop();
    }
  });
});

describe("WhatsApp keep-alive (§7)", () => {
  test("a socket that stopped answering keep-alives is reported disconnected and reconnected", async () => {
    const { url, peer, sock } = await openGateway();
    peer.onSocket = (s) => s.open();
    sock.keepAliveLost();
    const h = await health(url);
    expect(h.web.lastDisconnect).toMatchObject({ code: 408, reason: "Connection was lost" });
    await peer.waitForSockets(2);
    await until(async () => (await health(url)).web.connected, 3_000, "reconnected");
    // Baileys runs the keep-alive itself; the provider asks for it explicitly.
    expect(peer.sockets[1]!.config.keepAliveIntervalMs).toBe(30_000);
  });
});

