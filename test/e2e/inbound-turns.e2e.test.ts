/**
 * Issue 21 §4–§6 and §8 on Telegram, through the compiled binary: grammY against the fake
 * Bot API, the agent against the fake OpenAI-compatible server. What the person in the
 * chat sees (which messages arrive, how many) and what the model was told.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type BotCall, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { runCli, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { inboundOf, telegramGateway } from "../helpers/telegram-gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

let bot: FakeBotApi;
let ai: FakeOpenAi;
beforeAll(() => {
  bot = startFakeBotApi();
  ai = startFakeOpenAi((messages) => `ok (${messages.length} messages)`);
});
afterAll(() => {
  bot.stop();
  ai.stop();
});

const toChat = (chat: number | string): BotCall[] => bot.sent("sendMessage").filter((c) => String(c.params.chat_id) === String(chat));
/** The text of a request's last user message (the turn the model answers), parts joined. */
const lastUser = (body: any): string => {
  const c = body.messages.filter((m: any) => m.role === "user").at(-1)?.content;
  return typeof c === "string" ? c : c.filter((p: any) => p.type === "text").map((p: any) => p.text).join("\n");
};
/** Requests whose last user turn mentions `needle`. */
const asked = (needle: string) => ai.requests.filter((r) => lastUser(r.body).includes(needle));

function config(telegram: Record<string, unknown>, inbound: Record<string, unknown> = {}) {
  return {
    telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["*"], ...telegram },
    agent: { backend: "openai", openai: { baseUrl: ai.url, model: "good" } },
    inbound,
  };
}

function gateway(cfg: Record<string, unknown>, stateDir = tempStateDir(cfg)): Promise<RunningGateway> {
  return telegramGateway(target, stateDir, { TELEGRAM_BOT_TOKEN: bot.token, OPENAI_API_KEY: "sk-test" });
}

async function inbound(gw: RunningGateway, chat: number | string) {
  const recs = await inboundOf(gw, chat);
  // In the order the messages were written (records made in one millisecond tie on ts).
  const n = (r: any) => Number(String(r.providerMessageId).split(":")[1]);
  return recs.sort((a: any, b: any) => n(a) - n(b));
}

describe("Albums are one turn (§4)", () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await gateway(config({}));
  });
  afterAll(() => gw.stop());

  test("three photos with one caption: one run with all three images and the caption, one reply; the others say merged into", async () => {
    const from = { id: 8101, username: "album" };
    const photo = (n: number) => {
      const id = bot.addFile(new Uint8Array(500 + n).fill(n), `photos/album_${n}.jpg`);
      return [{ file_id: id, file_unique_id: `ua${n}`, width: 10, height: 10, file_size: 500 + n }];
    };
    const album = { media_group_id: "13579", text: undefined };
    bot.userSays("", from, 8101, { ...album, photo: photo(1) });
    bot.userSays("", from, 8101, { ...album, photo: photo(2), caption: "which of these is best?" });
    bot.userSays("", from, 8101, { ...album, photo: photo(3) });
    await until(() => toChat(8101).length === 1, "the reply", 15_000);
    const recs = await until(async () => {
      const r = await inbound(gw, 8101);
      return r.length === 3 && r.every((x: any) => x.status !== "received") ? r : null;
    }, "three records");
    const head = recs.find((r: any) => r.status === "replied");
    expect(head.media.length).toBe(3);
    expect(recs.filter((r: any) => r.status === "skipped").map((r: any) => r.reason)).toEqual([`merged into ${head.id}`, `merged into ${head.id}`]);
    const runs = asked("which of these is best?");
    expect(runs.length).toBe(1);
    const parts = runs[0]!.body.messages.at(-1).content;
    expect(parts.filter((p: any) => p.type === "image_url").length).toBe(3);
    // Nothing more comes later: one reply for the album.
    await Bun.sleep(2_000);
    expect(toChat(8101).length).toBe(1);
  }, 30_000);
});

describe("Late messages (§5) and placeholders (§6)", () => {
  let gw: RunningGateway;
  const from = { id: 8201, username: "late" };
  const now = () => Math.floor(Date.now() / 1000);
  beforeAll(async () => {
    // The backlog waits before the gateway starts, as after downtime.
    bot.userSays("ancient question one", from, 8201, { date: now() - 9 * 3600 });
    bot.userSays("ancient question two", from, 8201, { date: now() - 9 * 3600 + 60 });
    bot.userSays("recent question", from, 8201, { date: now() - 120 });
    gw = await gateway(config({}));
  });
  afterAll(() => gw.stop());

  test("a backlog 2 min and 9 h old: one answer with the age in the agent's input, one late notice", async () => {
    await until(() => toChat(8201).length === 2, "the notice and the answer", 15_000);
    const runs = asked("recent question");
    expect(runs.length).toBe(1);
    // After the context header (issue 23 §4): when it was written, then the words.
    expect(lastUser(runs[0]!.body)).toMatch(/^\[From A \(@late\), id 8201 · private chat on Telegram · [^\]]+\]\n\[written \d\d:\d\d, 2 min ago\]\nrecent question$/);
    expect(asked("ancient").length).toBe(0);
    const texts = toChat(8201).map((c) => String(c.params.text));
    expect(texts.filter((t) => /^I was offline when you wrote at \d\d:\d\d\. Send it again if it still matters\.$/.test(t)).length).toBe(1);
    expect(texts.filter((t) => t.startsWith("ok (")).length).toBe(1);
    const recs = await until(async () => {
      const r = await inbound(gw, 8201);
      return r.length === 3 && r.every((x: any) => x.status !== "received") ? r : null;
    }, "three records");
    expect(recs.map((r: any) => [r.status, r.reason])).toEqual([
      ["skipped", "too old"],
      ["skipped", "too old"],
      ["replied", undefined],
    ]);
    await Bun.sleep(500);
    expect(toChat(8201).length).toBe(2);
  }, 30_000);

  test("a location, a contact and a sticker each reach the agent as their placeholder; the ledger says the kind", async () => {
    const chat = 8202;
    const who = { id: chat, username: "kinds" };
    const none = { text: undefined };
    bot.userSays("", who, chat, { ...none, venue: { location: { latitude: 48.8606, longitude: 2.3376 }, title: "Louvre Museum", address: "Rue de Rivoli" }, location: { latitude: 48.8606, longitude: 2.3376 } });
    await until(() => toChat(chat).length === 1, "the location's answer");
    bot.userSays("", who, chat, { ...none, contact: { phone_number: "+44 20 7946 0000", first_name: "Ada", last_name: "Lovelace" } });
    await until(() => toChat(chat).length === 2, "the contact's answer");
    bot.userSays("", who, chat, { ...none, sticker: { file_id: "S1", file_unique_id: "s1", type: "regular", width: 512, height: 512, is_animated: false, is_video: false, emoji: "😀" } });
    await until(() => toChat(chat).length === 3, "the sticker's answer");
    expect(asked('[location 48.8606,2.3376 "Louvre Museum" "Rue de Rivoli"]').length).toBe(1);
    expect(asked("[contact: Ada Lovelace +44 20 7946 0000]").length).toBe(1);
    expect(asked("[sticker 😀]").length).toBe(1);
    const recs = await until(async () => {
      const r = await inbound(gw, chat);
      return r.length === 3 && r.every((x: any) => x.status === "replied") ? r : null;
    }, "three replied records");
    expect(recs.map((r: any) => r.kind)).toEqual(["location", "contact", "sticker"]);
  }, 30_000);

  test("a service message (someone joined), a reaction and an edit of an answered message are ledgered skipped with their kind: no run, no more replies", async () => {
    const chat = 8203;
    const said = bot.userSays("hello there", { id: chat, username: "svc" }, chat);
    await until(() => toChat(chat).length === 1, "the answer");
    bot.userSays("", { id: chat, username: "svc" }, chat, { text: undefined, new_chat_members: [{ id: 5, is_bot: false, first_name: "New" }] });
    bot.react(chat, 77, "👍", { id: chat, username: "svc" });
    bot.edits(said, "hello there, edited");
    const recs = await until(async () => {
      const { c } = await TestClient.connect(gw.url);
      const r = (await c.request("ledger.list", { direction: "inbound", limit: 1_000 })).payload.records.filter((x: any) => x.chat === String(chat));
      c.close();
      return r.length === 4 ? r : null;
    }, "four records");
    expect(recs.map((r: any) => [r.status, r.reason]).sort()).toEqual([
      ["replied", undefined],
      // An edit of a message already answered (issue 23 §5's rule).
      ["skipped", "edited after reply"],
      ["skipped", "reaction"],
      ["skipped", "service message (new_chat_members)"],
    ]);
    await Bun.sleep(300);
    expect(toChat(chat).length).toBe(1);
    expect(bot.calls.filter((c) => c.method === "getUpdates").at(-1)!.params.allowed_updates).toEqual(["message", "edited_message", "message_reaction"]);
  });
});

describe("Groups that change (§8)", () => {
  let gw: RunningGateway;
  const member = { id: 8301, username: "member" };
  const group = (id: number, type = "group") => ({ chat: { id, type, title: "Plants" } });
  const mention = (text: string) => ({ entities: [{ type: "mention", offset: 0, length: 17 }], text });
  beforeAll(async () => {
    gw = await gateway(config({ groups: { policy: "allowlist", allow: ["-4001", "-4002"] } }));
  });
  afterAll(() => gw.stop());

  test("privacy mode (getMe) shows in health; the log says how to turn it off", async () => {
    const { c } = await TestClient.connect(gw.url);
    expect((await c.request("health")).payload.telegram.privacyMode).toBe(true);
    c.close();
    expect(gw.stdout() + gw.stderr()).toContain("privacy mode is on for @clawdis_test_bot");
    expect(gw.stdout() + gw.stderr()).toContain("/setprivacy");
  });

  test("`/ask@bot hi` in a group counts as addressing the bot: a run, a reply", async () => {
    const text = "/ask@clawdis_test_bot hi there";
    bot.userSays(text, member, -4002, { ...group(-4002), entities: [{ type: "bot_command", offset: 0, length: 21 }] });
    await until(() => toChat(-4002).length === 1, "the reply", 15_000);
    expect(asked(text).length).toBe(1);
  });

  test("an album in a group whose caption mentions the bot is one addressed turn: every photo in it, one reply", async () => {
    const photo = (n: number) => [{ file_id: bot.addFile(new Uint8Array(300).fill(n), `photos/group_${n}.jpg`), file_unique_id: `ug${n}`, width: 10, height: 10, file_size: 300 }];
    const album = { ...group(-4002), media_group_id: "24680", text: undefined };
    const caption = "@clawdis_test_bot which is ripe?";
    bot.userSays("", member, -4002, { ...album, photo: photo(1), caption, caption_entities: [{ type: "mention", offset: 0, length: 17 }] });
    bot.userSays("", member, -4002, { ...album, photo: photo(2) });
    bot.userSays("", member, -4002, { ...album, photo: photo(3) });
    await until(() => asked("which is ripe?").length === 1, "the run", 15_000);
    const parts = asked("which is ripe?")[0]!.body.messages.at(-1).content;
    expect(parts.filter((p: any) => p.type === "image_url").length).toBe(3);
    await until(() => toChat(-4002).length === 2, "the album's reply");
    await Bun.sleep(2_000);
    expect(toChat(-4002).length).toBe(2);
  }, 30_000);

  test("a group upgraded to a supergroup keeps getting answers in its old session; mapping kept 0600, said once, doctor advises", async () => {
    bot.userSays("@clawdis_test_bot first, as a group", member, -4001, { ...group(-4001), ...mention("@clawdis_test_bot first, as a group") });
    await until(() => toChat(-4001).length === 1, "the old group's answer", 15_000);
    // The upgrade: a service message in the old group, another in the new supergroup.
    bot.userSays("", member, -1004001, { ...group(-4001), text: undefined, migrate_to_chat_id: -1004001 });
    bot.userSays("", member, -1004001, { ...group(-1004001, "supergroup"), text: undefined, migrate_from_chat_id: -4001 });
    bot.userSays("@clawdis_test_bot now as a supergroup", member, -1004001, { ...group(-1004001, "supergroup"), ...mention("@clawdis_test_bot now as a supergroup") });
    await until(() => toChat(-1004001).length === 1, "the supergroup's answer", 15_000);
    const run = asked("now as a supergroup");
    expect(run.length).toBe(1);
    // One conversation across the upgrade: the earlier turn is in the history the model got.
    expect(JSON.stringify(run[0]!.body.messages)).toContain("first, as a group");
    const file = join(gw.stateDir, "telegram", "migrations.json");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ "-1004001": "-4001" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const log = gw.stdout() + gw.stderr();
    expect(log.split("was upgraded to supergroup -1004001").length - 1).toBe(1);
    const doctor = await runCli(["doctor", "--json"], { target, env: { CLAWDIS_STATE_DIR: gw.stateDir, TELEGRAM_BOT_TOKEN: bot.token } });
    const finding = JSON.parse(doctor.stdout).find((f: any) => f.id === "telegram-groups");
    expect(finding.status).toBe("warn");
    expect(finding.message).toContain("replace -4001 with -1004001 in telegram.groups.allow");
    expect(finding.message).toContain("/setprivacy");
  }, 30_000);
});
