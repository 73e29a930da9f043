/**
 * Issue 23 §4 and §6 on WhatsApp, through the real provider and gateway with the fake
 * Baileys peer (stanzas decoded by Baileys' own code): the agent's Markdown goes out in
 * WhatsApp's markup; mentions reach the agent as names; a quote carries its text and author.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentBackend, AgentTurn } from "../../src/agent/types.ts";
import { stanza } from "../helpers/fake-baileys.ts";
import { inboundRecord, openGateway, sentTo } from "./wa-helpers.ts";

const ALICE = "15550001111@s.whatsapp.net";
const BOB_LID = "88776655443322@lid";
const GROUP = "120363000000000077@g.us";
const ME_LID = "99887766554433@lid";

function answering(reply: string) {
  const turns: AgentTurn[] = [];
  const backend: AgentBackend = {
    name: "scripted",
    async run(turn) {
      turns.push(turn);
      return { summary: reply };
    },
  };
  return { backend, turns };
}

describe("WhatsApp formatting (§6)", () => {
  test("**bold**, _italic_, ~~strike~~, code, a quote and a list go out in WhatsApp's own markup", async () => {
    const agent = answering("Plan for **today**:\n- pack _light_\n- skip ~~the museum~~\n\n> bring `cash`\n\n```\nls -la\n```");
    const { g, sock } = await openGateway([ALICE], {}, { agentBackend: agent.backend });
    const m = await sock.receive(stanza.direct(ALICE, { conversation: "plan?" }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    expect(sentTo(sock, ALICE).map((s) => s.content)).toEqual([{ text: "Plan for *today*:\n\n- pack _light_\n- skip ~the museum~\n\n> bring `cash`\n\n```\nls -la\n```" }]);
  });

  test('whatsapp.format "plain" sends the reply as written', async () => {
    const agent = answering("**as** written");
    const { g, sock } = await openGateway([ALICE], { whatsapp: { format: "plain" } }, { agentBackend: agent.backend });
    const m = await sock.receive(stanza.direct(ALICE, { conversation: "hi" }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    expect(sentTo(sock, ALICE)[0]!.content).toEqual({ text: "**as** written" });
  });
});

describe("WhatsApp files back (§7)", () => {
  test("MEDIA: <path> under agent.mediaDirs goes out as a document after the text; a path outside is refused with a record", async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "clawdis-wa-media-")));
    writeFileSync(join(dir, "notes.pdf"), "%PDF-1.4 notes");
    const agent = answering(`Your notes:\nMEDIA: ${join(dir, "notes.pdf")}\nMEDIA: /etc/hosts`);
    const { g, sock } = await openGateway([ALICE], { agent: { mediaDirs: [dir] } }, { agentBackend: agent.backend });
    const m = await sock.receive(stanza.direct(ALICE, { conversation: "my notes?" }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    const sent = sentTo(sock, ALICE).map((s) => s.content);
    expect(sent[0]).toEqual({ text: "Your notes:" });
    expect(sent[1]).toMatchObject({ mimetype: "application/pdf", fileName: "notes.pdf" });
    expect(Buffer.from(sent[1]!.document as Uint8Array).toString()).toBe("%PDF-1.4 notes");
    expect(sent.length).toBe(2);
    const refused = g.ctx.ledger.list({ direction: "outbound", status: "skipped", limit: 10 }).find((r) => r.chat === ALICE);
    expect(refused?.reason).toContain("MEDIA: /etc/hosts: not under any of agent.mediaDirs");
  });
});

describe("WhatsApp context (§4)", () => {
  test("mentions read as names, a quote carries its text and author, the group's lines come along", async () => {
    const agent = answering("noted");
    const groups = { whatsapp: { groups: { policy: "allowlist", allow: [GROUP] } } };
    const { g, sock } = await openGateway([], groups, { agentBackend: agent.backend });
    // Bob speaks first (not mentioning the bot): his push name is learned, his line kept.
    const line = await sock.receive(stanza.group(GROUP, BOB_LID, { conversation: "I can drive on Saturday" }, { pushName: "Bob" }));
    expect(await inboundRecord(g, line.key.id!)).toMatchObject({ status: "skipped", reason: "not mentioned" });
    const question = {
      extendedTextMessage: {
        text: "@99887766554433 what do you think of @88776655443322's offer?",
        contextInfo: { mentionedJid: [ME_LID, BOB_LID], stanzaId: line.key.id, participant: BOB_LID, quotedMessage: { conversation: "I can drive on Saturday" } },
      },
    };
    const asked = await sock.receive(stanza.group(GROUP, ALICE, question, { pushName: "Alice" }));
    expect(await inboundRecord(g, asked.key.id!)).toMatchObject({ status: "replied" });
    const turn = agent.turns.at(-1)!;
    expect(turn.message).toBe("@Test Phone what do you think of @Bob's offer?");
    // The group is named by its subject, from the metadata cache.
    expect(turn.context).toContain(`[From Alice, id +15550001111 · group "Plants" on WhatsApp`);
    expect(turn.context).toContain('[Replying to Bob: "I can drive on Saturday"]');
    expect(turn.context).toContain("Bob: I can drive on Saturday");
  });
});
