/** Telegram messages as the gateway reads them: addressed or not, and every kind of file (real grammY client, fake Bot API). */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Api } from "grammy";
import type { Message } from "grammy/types";
import { InboundMediaStore } from "../../src/media/index.ts";
import { addressedToBot, toInbound } from "../../src/providers/telegram/inbound.ts";
import { startFakeBotApi } from "../helpers/fake-bot-api.ts";

const bot = startFakeBotApi();
afterAll(() => bot.stop());
const me = { id: 1, username: "Clawdis_Test_Bot" };
const from = { id: 42, is_bot: false, first_name: "Ann", username: "ann" };
const msg = (m: Partial<Message>): Message => ({ message_id: 5, date: 1_700_000_000, chat: { id: -100, type: "supergroup", title: "G" }, from, ...m }) as Message;

describe("addressed to the bot", () => {
  test("a mention entity of its @username (any case), in text or caption; a text_mention; a reply to it", () => {
    expect(addressedToBot(msg({ text: "hi @clawdis_test_bot", entities: [{ type: "mention", offset: 3, length: 17 }] }), me)).toBe(true);
    expect(addressedToBot(msg({ caption: "@CLAWDIS_TEST_BOT look", caption_entities: [{ type: "mention", offset: 0, length: 17 }] }), me)).toBe(true);
    expect(addressedToBot(msg({ text: "Clawdis!", entities: [{ type: "text_mention", offset: 0, length: 7, user: { id: 1, is_bot: true, first_name: "C" } }] }), me)).toBe(true);
    expect(addressedToBot(msg({ text: "yes", reply_to_message: msg({ message_id: 4, from: { id: 1, is_bot: true, first_name: "C" }, text: "q" }) as never }), me)).toBe(true);
  });

  test("someone else's mention, a bare @name without an entity, a reply to someone else: not addressed", () => {
    expect(addressedToBot(msg({ text: "hi @other_bot", entities: [{ type: "mention", offset: 3, length: 10 }] }), me)).toBe(false);
    expect(addressedToBot(msg({ text: "hi @clawdis_test_bot" }), me)).toBe(false);
    expect(addressedToBot(msg({ text: "yes", reply_to_message: msg({ message_id: 4, text: "q" }) as never }), me)).toBe(false);
  });
});

describe("files", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "clawdis-tgin-")), "media", "inbound");
  const sink = new InboundMediaStore(dir, () => ({ maxInboundBytes: 1_000, maxTotalBytes: 100_000 }));
  const files = { api: new Api(bot.token, { apiRoot: bot.apiRoot }), apiRoot: bot.apiRoot, token: bot.token };
  const take = (m: Partial<Message>) => toInbound(msg({ chat: { id: 42, type: "private", first_name: "Ann" }, ...m }), me, { sink, files }, (e) => {
    throw e;
  });
  /** The message with its file fetched, as the gateway does once it lets the message in. */
  const read = async (m: Partial<Message>) => {
    const got = take(m);
    return got && { ...got, ...(await got.fetchMedia?.()) };
  };
  const file = (n: number, path: string) => ({ file_id: bot.addFile(new Uint8Array(n), path), file_unique_id: path });

  test("voice, audio, video, video note and document: kind and type, the caption as text", async () => {
    const cases: [Partial<Message>, string, string][] = [
      [{ voice: { ...file(10, "voice/a.oga"), duration: 1, mime_type: "audio/ogg" } }, "audio", "audio/ogg"],
      [{ audio: { ...file(11, "music/b.mp3"), duration: 1, mime_type: "audio/mpeg", file_name: "b.mp3" } }, "audio", "audio/mpeg"],
      [{ video: { ...file(12, "videos/c.mp4"), duration: 1, width: 1, height: 1, mime_type: "video/mp4" } }, "video", "video/mp4"],
      [{ video_note: { ...file(13, "video_notes/d.mp4"), duration: 1, length: 1 } }, "video", "video/mp4"],
      [{ document: { ...file(14, "documents/e.pdf"), mime_type: "application/pdf", file_name: "e.pdf" }, caption: "see e" }, "document", "application/pdf"],
    ];
    for (const [m, kind, mime] of cases) {
      const got = await read(m);
      expect(got?.media).toEqual([{ kind: kind as never, mime, bytes: expect.any(Number), path: expect.stringContaining(dir) }]);
      expect(got?.chatType).toBe("private");
    }
    expect((await read(cases[4]![0]))?.text).toBe("see e");
  });

  test("reading a message fetches nothing: getFile and the download wait for fetchMedia (called only for a message let in)", async () => {
    const calls = bot.sent("getFile").length;
    const downloads = bot.downloads.length;
    const got = take({ photo: [{ ...file(20, "photos/lazy.jpg"), width: 1, height: 1 }], caption: "later" });
    await Bun.sleep(50);
    expect(bot.sent("getFile").length).toBe(calls);
    expect(bot.downloads.length).toBe(downloads);
    expect(got?.media).toBeUndefined();
    expect(await got!.fetchMedia!()).toEqual({ media: [{ kind: "image", mime: "image/jpeg", bytes: 20, path: expect.stringContaining(dir) }] });
    expect(bot.downloads).toContain("photos/lazy.jpg");
  });

  test("over maxInboundBytes by getFile's size: not downloaded, media too large; no text and no file is still recorded", async () => {
    const before = bot.downloads.length;
    const got = await read({ document: { ...file(5_000, "documents/big.bin"), file_name: "big.bin" } });
    expect(got).toMatchObject({ text: "", mediaSkipped: "media too large" });
    expect(got?.media).toBeUndefined();
    expect(bot.downloads.length).toBe(before);
  });
});
