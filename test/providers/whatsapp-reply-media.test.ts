/**
 * The WhatsApp half of "a MEDIA: file that cannot go out is skipped, the text still goes"
 * (the Telegram half: test/e2e/reply-media-skip.e2e.test.ts): through the real provider
 * and gateway with the fake Baileys peer, the agent scripted, the file server on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AgentBackend } from "../../src/agent/types.ts";
import { stanza } from "../helpers/fake-baileys.ts";
import { fileServer } from "../helpers/file-server.ts";
import { inboundRecord, openGateway, sentTo, until } from "./wa-helpers.ts";

const ALICE = "15550001111@s.whatsapp.net";

let files: ReturnType<typeof Bun.serve>;
let fetched: string[] = [];
beforeAll(() => {
  // A page where a file was promised: not sendable media.
  ({ server: files, fetched } = fileServer(() => new Response("<html>login</html>", { headers: { "content-type": "text/html" } })));
});
afterAll(() => files.stop(true));

const answering = (summary: string): AgentBackend => ({ name: "scripted", run: async () => ({ summary }) });

describe("WhatsApp: a MEDIA: file that cannot go out is skipped", () => {
  test("a loopback URL with media.allowPrivateUrls off is refused before the send: the text alone, the reply delivered", async () => {
    const url = `http://127.0.0.1:${files.port}/report.pdf`;
    const { g, sock } = await openGateway([ALICE], {}, { agentBackend: answering(`The report:\nMEDIA: ${url}`) });
    const m = await sock.receive(stanza.direct(ALICE, { conversation: "report?" }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    await Bun.sleep(200);
    expect(sentTo(sock, ALICE).map((s) => s.content)).toEqual([{ text: "The report:" }]);
    const out = g.ctx.ledger.list({ direction: "outbound", limit: 10 }).filter((r) => r.chat === ALICE);
    expect(out.find((r) => r.idempotencyKey?.endsWith(":deliver:media:1"))).toMatchObject({
      status: "skipped",
      reason: `MEDIA: ${url}: refused: loopback address (media.allowPrivateUrls is off); to allow it, add "127.0.0.1" to media.allowUrlHosts`,
    });
    expect(out.filter((r) => r.status === "failed")).toEqual([]);
    expect(fetched).not.toContain("/report.pdf");
  });

  test("a URL answering with a type that is not media (allowPrivateUrls on) is skipped at send time; the text goes once", async () => {
    const url = `http://127.0.0.1:${files.port}/login.pdf`;
    const { g, sock } = await openGateway([ALICE], { media: { allowPrivateUrls: true } }, { agentBackend: answering(`The report:\nMEDIA: ${url}`) });
    const m = await sock.receive(stanza.direct(ALICE, { conversation: "report?" }));
    expect(await inboundRecord(g, m.key.id!)).toMatchObject({ status: "replied" });
    await Bun.sleep(200);
    expect(sentTo(sock, ALICE).map((s) => s.content)).toEqual([{ text: "The report:" }]);
    expect(fetched).toContain("/login.pdf");
    const out = g.ctx.ledger.list({ direction: "outbound", limit: 10 }).filter((r) => r.chat === ALICE);
    expect(out.find((r) => r.idempotencyKey?.endsWith(":deliver:media:1"))).toMatchObject({
      status: "skipped",
      reason: `MEDIA: ${url}: content type "text/html" is not sendable media`,
    });
    expect(out.filter((r) => r.status === "failed")).toEqual([]);
  });

  test("a reply of nothing but such a file still fails: nothing was sent, the chat hears why", async () => {
    const url = `http://127.0.0.1:${files.port}/only.pdf`;
    const { g, sock } = await openGateway([ALICE], { media: { allowPrivateUrls: true } }, { agentBackend: answering(`MEDIA: ${url}`) });
    const m = await sock.receive(stanza.direct(ALICE, { conversation: "just the file" }));
    const rec = await inboundRecord(g, m.key.id!);
    expect(rec.status).toBe("failed");
    const out = g.ctx.ledger.list({ direction: "outbound", limit: 10 }).filter((r) => r.chat === ALICE);
    expect(out.find((r) => r.reason?.includes("only.pdf"))).toMatchObject({ status: "skipped" });
    await until(() => sentTo(sock, ALICE).length > 0, 5_000, "the error reply");
    expect(sentTo(sock, ALICE).map((s) => String(s.content.text))).toEqual([expect.stringMatching(/^Sorry, I couldn't answer that/)]);
  });
});
