/** Issue 23 §4 and §7: what the agent is told about a message, group lines kept in memory, MEDIA: lines. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { messageContext, QUOTE_MAX_CHARS } from "../../src/agent/context.ts";
import { commandBackend, fillTemplate } from "../../src/agent/backends/command.ts";
import { parseReplyMedia, resolveReplyMedia } from "../../src/delivery/reply-media.ts";
import { MAX_GROUPS_REMEMBERED, TurnContext } from "../../src/inbound/turn-context.ts";
import { createLogger } from "../../src/log.ts";

const log = createLogger({ stdoutLevel: "error" });
const at = Date.UTC(2026, 11, 7, 9, 30, 0);

describe("the context block", () => {
  test("private: name and id, network, time", () => {
    expect(messageContext({ provider: "telegram", chatType: "private", chat: "42", sender: "42", senderName: "Ann (@ann)", senderNames: ["@ann"], ts: at })).toBe(
      "[From Ann (@ann), id 42 · private chat on Telegram · 2026-12-07T09:30:00Z]",
    );
  });

  test("group with quote (cut at 500 characters) and earlier lines; WhatsApp ids read as phone numbers", () => {
    const text = messageContext({
      provider: "whatsapp",
      chatType: "group",
      chat: "1203@g.us",
      chatTitle: "Family",
      sender: "15550001111@s.whatsapp.net",
      senderNames: ["+15550001111"],
      ts: at,
      quote: { text: "q".repeat(QUOTE_MAX_CHARS + 50), author: "Bob" },
      groupLines: [{ name: "Bob", text: "line one\nline two", ts: at - 1 }],
    });
    const lines = text.split("\n");
    expect(lines[0]).toBe('[From id +15550001111 · group "Family" on WhatsApp · 2026-12-07T09:30:00Z]');
    expect(lines[1]).toBe(`[Replying to Bob: "${"q".repeat(QUOTE_MAX_CHARS)}…"]`);
    expect(lines.slice(2)).toEqual(["[Earlier in this group, since your last answer here:]", "Bob: line one ⏎ line two", "[The message to answer:]"]);
  });

  test("the command backend gets the same as {{context}}", async () => {
    const turn = { runId: "r", message: "hi", sessionId: "s", history: [], context: "[From X (id 1) · private chat on Telegram · t]" };
    expect(fillTemplate("{{context}}|{{message}}", turn)).toBe("[From X (id 1) · private chat on Telegram · t]|hi");
    expect(fillTemplate("<{{context}}>", { ...turn, context: undefined })).toBe("<>");
    const out = await commandBackend({ argv: ["printf", "%s", "{{context}}"], log }).run(turn, () => {}, new AbortController().signal);
    expect(out.summary).toBe(turn.context);
  });
});

describe("group lines (memory only, bounded)", () => {
  const msg = (chat: string, text: string, ts: number, name = "Ann") => ({
    provider: "telegram" as const,
    chat,
    chatType: "group" as const,
    sender: "1",
    senderName: name,
    senderNames: [],
    messageId: `${chat}:${ts}`,
    text,
    ts,
  });

  test("kept up to historyLines, taken by the answer, never from groups not let in", async () => {
    const ctx = new TurnContext({ historyLines: () => 2, transcribe: () => undefined, log });
    ctx.observe(msg("g1", "one", 1), "not mentioned");
    ctx.observe(msg("g1", "two", 2), "not mentioned");
    ctx.observe(msg("g1", "three", 3, "Bob"), "not mentioned");
    ctx.observe(msg("g2", "secret", 4), "group not allowed");
    const first = await ctx.prepare(msg("g1", "question", 5));
    expect(first.context).toContain("Ann: two\nBob: three\n");
    expect(first.context).not.toContain("one");
    expect((await ctx.prepare(msg("g1", "again", 6))).context).not.toContain("Earlier");
    expect((await ctx.prepare(msg("g2", "q", 7))).context).not.toContain("secret");
  });

  test(`at most ${MAX_GROUPS_REMEMBERED} groups: the least recently active is forgotten`, async () => {
    const ctx = new TurnContext({ historyLines: () => 20, transcribe: () => undefined, log });
    for (let i = 0; i <= MAX_GROUPS_REMEMBERED; i++) ctx.observe(msg(`g${i}`, `line ${i}`, i), "not mentioned");
    expect((await ctx.prepare(msg("g0", "q", 10_000))).context).not.toContain("line 0");
    expect((await ctx.prepare(msg("g1", "q", 10_000))).context).toContain("line 1");
  });
});

describe("MEDIA: lines", () => {
  test("taken out of the reply (not inside code blocks); the rest stays as written", () => {
    expect(parseReplyMedia("Here:\nMEDIA: https://e.com/a.pdf\n  MEDIA: </tmp/x.png>\nbye")).toEqual({ text: "Here:\nbye", refs: ["https://e.com/a.pdf", "/tmp/x.png"] });
    const fenced = "```\nMEDIA: https://e.com/a.pdf\n```";
    expect(parseReplyMedia(fenced)).toEqual({ text: fenced, refs: [] });
    expect(parseReplyMedia("say MEDIA: x inline")).toEqual({ text: "say MEDIA: x inline", refs: [] });
  });

  test("paths only under agent.mediaDirs (symlinks resolved); URLs pass to send.mediaUrl's rules", async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), "clawdis-mediadirs-")));
    const dir = join(root, "out");
    mkdirSync(dir);
    writeFileSync(join(dir, "ok.png"), "x");
    writeFileSync(join(root, "secret.txt"), "x");
    symlinkSync(join(root, "secret.txt"), join(dir, "link.txt"));
    // URLs are checked by media.* before anything is queued (no DNS here: the host is listed, or an address).
    expect(await resolveReplyMedia("https://e.com/a.pdf", [], { allowPrivateUrls: false, allowUrlHosts: ["e.com"] })).toEqual({ mediaUrl: "https://e.com/a.pdf" });
    expect(await resolveReplyMedia("https://93.184.215.14/a.pdf", [])).toEqual({ mediaUrl: "https://93.184.215.14/a.pdf" });
    expect(await resolveReplyMedia("http://[::1]:8080/a.pdf", [])).toEqual({
      refused: 'MEDIA: http://[::1]:8080/a.pdf: refused: loopback address (media.allowPrivateUrls is off); to allow it, add "::1" to media.allowUrlHosts',
    });
    expect(await resolveReplyMedia("http://10.0.0.5/a.pdf", [], { allowPrivateUrls: false, allowUrlHosts: ["10.0.0.0/8"] })).toEqual({ mediaUrl: "http://10.0.0.5/a.pdf" });
    expect(await resolveReplyMedia("http://127.0.0.1/a.pdf", [], { allowPrivateUrls: true, allowUrlHosts: [] })).toEqual({ mediaUrl: "http://127.0.0.1/a.pdf" });
    expect(await resolveReplyMedia(join(dir, "ok.png"), [dir])).toEqual({ mediaPath: join(dir, "ok.png") });
    expect(await resolveReplyMedia(join(dir, "ok.png"), [])).toMatchObject({ refused: expect.stringContaining("agent.mediaDirs") });
    expect(await resolveReplyMedia(join(dir, "link.txt"), [dir])).toMatchObject({ refused: expect.stringContaining("not under any of agent.mediaDirs") });
    expect(await resolveReplyMedia(join(dir, "..", "secret.txt"), [dir])).toMatchObject({ refused: expect.stringContaining("not under") });
    expect(await resolveReplyMedia("file:///etc/passwd", [dir])).toMatchObject({ refused: expect.stringContaining("only https URLs and file paths") });
    expect(await resolveReplyMedia("relative.png", [dir])).toMatchObject({ refused: expect.stringContaining("must be absolute") });
  });
});

describe("voice notes (agent.transcribe)", () => {
  test("a chat's next message waits for the voice note before it, so runs keep arrival order", async () => {
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch() {
        await slow;
        return Response.json({ text: "see you at noon" });
      },
    });
    try {
      const dir = mkdtempSync(join(tmpdir(), "clawdis-voice-"));
      writeFileSync(join(dir, "v.ogg"), "OggS");
      const ctx = new TurnContext({ historyLines: () => 0, transcribe: () => ({ baseUrl: `http://127.0.0.1:${server.port}/v1`, model: "m" }), log });
      const base = { provider: "telegram" as const, chat: "9", chatType: "private" as const, sender: "9", senderNames: [], ts: at };
      const order: string[] = [];
      const voice = ctx.prepare({ ...base, messageId: "9:1", text: "", media: [{ kind: "audio", mime: "audio/ogg", bytes: 4, path: join(dir, "v.ogg") }] }).then((t) => order.push(t.message));
      const text = ctx.prepare({ ...base, messageId: "9:2", text: "and bring snacks" }).then((t) => order.push(t.message));
      await Bun.sleep(50);
      expect(order).toEqual([]);
      release();
      await Promise.all([voice, text]);
      expect(order).toEqual(["[voice] see you at noon", "and bring snacks"]);
    } finally {
      server.stop(true);
    }
  });
});

describe("the openai backend and agent.inboundHeader", () => {
  test("on (default): the block comes before the words; off: the words alone", async () => {
    const { startFakeOpenAi } = await import("../helpers/fake-openai.ts");
    const { openAiBackend } = await import("../../src/agent/backends/openai.ts");
    const fake = startFakeOpenAi(() => "ok");
    try {
      const turn = { runId: "r", message: "what now?", sessionId: "s", history: [], context: "[From Ann (id 1) · private chat on Telegram · t]" };
      await openAiBackend({ baseUrl: fake.url, model: "good", log }).run(turn, () => {}, new AbortController().signal);
      await openAiBackend({ baseUrl: fake.url, model: "good", log, inboundHeader: false }).run(turn, () => {}, new AbortController().signal);
      expect(fake.requests.map((r) => r.body.messages.at(-1).content)).toEqual(["[From Ann (id 1) · private chat on Telegram · t]\nwhat now?", "what now?"]);
    } finally {
      fake.stop();
    }
  });
});
