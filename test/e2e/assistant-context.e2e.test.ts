/**
 * Issue 23 §4, §6, §7 (part) through the compiled binary: grammY against the fake Bot
 * API, the agent against the fake OpenAI-compatible server that records what the model
 * was given. What the model reads about a message (sender, chat, quote, group lines,
 * voice notes), how its Markdown arrives in Telegram, and files it sends back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema } from "../../src/config/schema.ts";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type BotCall, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const PDF = new TextEncoder().encode("%PDF-1.4\n% a tiny report\n");
const GROUP = -100777;

let bot: FakeBotApi;
let model: FakeOpenAi;
let files: ReturnType<typeof Bun.serve>;
let transcriber: ReturnType<typeof Bun.serve>;
let gw: RunningGateway;
let mediaDir: string;
/** What the model answers next (Markdown, MEDIA lines…). */
let answer = "ok";
const transcriptions: { model: string; size: number }[] = [];

// Fetching from 127.0.0.1 needs media.allowPrivateUrls once send.mediaUrl refuses private addresses; only set where the schema has it.
const mediaCfg = "allowPrivateUrls" in (ConfigSchema.entries.media.wrapped.entries as object) ? { allowPrivateUrls: true } : {};

const toChat = (chat: number, method?: string): BotCall[] => bot.sent(method).filter((c) => String(c.params.chat_id) === String(chat));
/** The text of the user message the model was given last (its text parts, when it came with files). */
const lastUserMessage = (): string => {
  const content = model.requests.at(-1)!.body.messages.at(-1).content;
  return typeof content === "string" ? content : content.filter((p: any) => p.type === "text").map((p: any) => p.text).join("\n");
};

beforeAll(async () => {
  bot = startFakeBotApi();
  model = startFakeOpenAi(() => answer);
  files = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => (new URL(req.url).pathname === "/report.pdf" ? new Response(PDF, { headers: { "content-type": "application/pdf" } }) : new Response("no", { status: 404 })),
  });
  transcriber = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const form = await req.formData();
      const file = form.get("file") as unknown as File;
      transcriptions.push({ model: String(form.get("model")), size: file.size });
      return Response.json({ text: "please call me back tomorrow" });
    },
  });
  mediaDir = realpathSync(mkdtempSync(join(tmpdir(), "clawdis-media-")));
  writeFileSync(join(mediaDir, "chart.png"), PDF);
  const cfg = {
    telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["@alice", "@carol"], groups: { policy: "open", historyLines: 2 } },
    agent: {
      backend: "openai",
      openai: { baseUrl: model.url, model: "good" },
      mediaDirs: [mediaDir],
      transcribe: { baseUrl: `http://127.0.0.1:${transcriber.port}/v1`, model: "whisper-test", apiKeyEnv: "TRANSCRIBE_KEY" },
    },
    media: mediaCfg,
  };
  gw = await spawnGateway({ target, stateDir: tempStateDir(cfg), env: { TELEGRAM_BOT_TOKEN: bot.token, OPENAI_API_KEY: "sk-test", TRANSCRIBE_KEY: "tk" } });
  const { c } = await TestClient.connect(gw.url);
  await until(async () => (await c.request("health")).payload.telegram.connected, "telegram connected");
  c.close();
});
afterAll(async () => {
  await gw?.stop();
  bot.stop();
  model.stop();
  files.stop(true);
  transcriber.stop(true);
});

/** Every message of the chat so far has its answer out (so a later test sees only its own sends). */
async function answered(chat: number) {
  const { c } = await TestClient.connect(gw.url);
  await until(async () => {
    const recs = (await c.request("ledger.list", { direction: "inbound", limit: 1_000 })).payload.records.filter((r: any) => r.chat === String(chat));
    return recs.every((r: any) => r.status !== "received");
  }, `every message of ${chat} answered`);
  c.close();
}

/** One message to the bot; resolves with the model request it caused. */
async function ask(text: string, from = { id: 4242, username: "alice" }, chat = from.id, extra: Record<string, unknown> = {}) {
  const before = model.requests.length;
  bot.userSays(text, from, chat, extra);
  await until(async () => model.requests.length > before, "the model was asked");
}

describe("What the agent is told (§4)", () => {
  test("a private message carries a header: the sender's name and id, the chat, the time", async () => {
    answer = "hi";
    await ask("hello there");
    const content = lastUserMessage();
    expect(content).toMatch(/^\[From A \(@alice\), id 4242 · private chat on Telegram · \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\]\nhello there$/);
  });

  test("a reply to a quoted message carries the quote and its author's name", async () => {
    const quoted = { message_id: 9001, date: Math.floor(Date.now() / 1000), chat: { id: 4242, type: "private" }, from: { id: 555, is_bot: false, first_name: "Bob", last_name: "Stone" }, text: "The meeting moved to Thursday at 3." };
    await ask("is that right?", undefined, undefined, { reply_to_message: quoted });
    const content = lastUserMessage();
    expect(content).toContain('[Replying to Bob Stone: "The meeting moved to Thursday at 3."]');
    expect(content.endsWith("\nis that right?")).toBe(true);
  });

  test("a group question sees the lines written since the bot last answered there (up to groups.historyLines)", async () => {
    const group = { chat: { id: GROUP, type: "group", title: "Trip planning" } };
    const mention = (text: string) => ({ ...group, entities: [{ type: "mention", offset: text.indexOf("@clawdis_test_bot"), length: 17 }] });
    bot.userSays("an old line that falls out", { id: 4242, username: "alice" }, GROUP, group);
    bot.userSays("we should leave at 6", { id: 4242, username: "alice" }, GROUP, group);
    bot.userSays("6 is too early for me", { id: 7, username: "carol" }, GROUP, group);
    // The unmentioned lines are skipped (not run) before the question comes.
    await until(async () => {
      const { c } = await TestClient.connect(gw.url);
      const recs = (await c.request("ledger.list", { direction: "inbound", limit: 100 })).payload.records.filter((r: any) => r.chat === String(GROUP));
      c.close();
      return recs.length === 3;
    }, "three skipped group lines");
    const q = "@clawdis_test_bot what do you think?";
    await ask(q, { id: 7, username: "carol" }, GROUP, mention(q));
    const content = lastUserMessage();
    expect(content).toContain('group "Trip planning" on Telegram');
    expect(content).toContain("A (@alice): we should leave at 6\nA (@carol): 6 is too early for me\n");
    expect(content).not.toContain("an old line");
    expect(content.endsWith(`\n${q}`)).toBe(true);
    // Answered: the next question starts afresh.
    await until(async () => toChat(GROUP).length === 1, "the group answer");
    await ask(q, { id: 7, username: "carol" }, GROUP, mention(q));
    expect(lastUserMessage()).not.toContain("Earlier in this group");
  });

  test("a voice note reaches the model as [voice] and its words (agent.transcribe)", async () => {
    const voice = { file_id: bot.addFile(new Uint8Array(900).fill(7), "voice/file_9.oga"), file_unique_id: "v1", duration: 3, mime_type: "audio/ogg", file_size: 900 };
    await ask("", undefined, undefined, { text: undefined, voice });
    expect(lastUserMessage()).toMatch(/^\[From A \(@alice\)[^\n]*\]\n\[voice\] please call me back tomorrow\n\[attached audio: audio\/ogg, 900 bytes\]$/);
    expect(transcriptions.at(-1)).toEqual({ model: "whisper-test", size: 900 });
  });
});

describe("Markdown in Telegram (§6)", () => {
  test("**bold** arrives as <b>bold</b> with parse_mode HTML", async () => {
    await answered(4242);
    answer = "This is **bold** and `x < y`";
    await ask("format please");
    const sent = await bot.waitFor((c) => c.method === "sendMessage" && String(c.params.text).startsWith("This is"), 10_000);
    expect(sent.params).toMatchObject({ chat_id: "4242", text: "This is <b>bold</b> and <code>x &lt; y</code>", parse_mode: "HTML" });
  });

  test("a reply Telegram refuses as HTML arrives once, as plain text", async () => {
    await answered(4242);
    answer = "Refused **markup** here";
    bot.parseErrors = 1;
    const callsBefore = bot.calls.length;
    await ask("again");
    await bot.waitFor((c) => c.method === "sendMessage" && c.params.text === "Refused markup here", 10_000);
    await answered(4242);
    await Bun.sleep(300);
    const tries = bot.calls.slice(callsBefore).filter((c) => c.method === "sendMessage" && String(c.params.chat_id) === "4242");
    expect(tries.map((t) => [t.params.text, t.params.parse_mode])).toEqual([
      ["Refused <b>markup</b> here", "HTML"],
      ["Refused markup here", undefined],
    ]);
    expect(bot.parseErrors).toBe(0);
  });
});

describe("Files sent back (§7)", () => {
  test("MEDIA: <url> sends the file as a document, with the rest of the reply as text", async () => {
    await answered(4242);
    answer = `Here is the report.\nMEDIA: http://127.0.0.1:${files.port}/report.pdf`;
    await ask("send me the report");
    const doc = await bot.waitFor((c) => c.method === "sendDocument" && String(c.params.chat_id) === "4242", 10_000);
    expect(Object.values(doc.files)).toEqual([{ name: "report.pdf", size: PDF.byteLength, type: expect.any(String) }]);
    // The text went first, then the file.
    const text = toChat(4242, "sendMessage").at(-1)!;
    expect(text.params.text).toBe("Here is the report.");
    expect(text.at).toBeLessThanOrEqual(doc.at);
  });

  test("a path under agent.mediaDirs is sent; one outside is refused with a ledger reason and the text still goes", async () => {
    await answered(4242);
    answer = `Two files:\nMEDIA: ${join(mediaDir, "chart.png")}\nMEDIA: /etc/hostname`;
    const photosBefore = toChat(4242, "sendPhoto").length;
    await ask("files please");
    await until(async () => toChat(4242, "sendPhoto").length > photosBefore, "the photo from mediaDirs", 10_000);
    expect(Object.values(toChat(4242, "sendPhoto").at(-1)!.files).map((f) => f.name)).toEqual(["chart.png"]);
    const { c } = await TestClient.connect(gw.url);
    const refused = await until(async () => {
      const recs = (await c.request("ledger.list", { direction: "outbound", status: "skipped", limit: 100 })).payload.records;
      return recs.find((r: any) => r.chat === "4242" && /MEDIA: \/etc\/hostname: not under any of agent\.mediaDirs/.test(r.reason ?? ""));
    }, "the refused file's record");
    expect(refused.provider).toBe("telegram");
    c.close();
    await answered(4242);
    expect(toChat(4242, "sendMessage").at(-1)!.params.text).toBe("Two files:");
  });
});
