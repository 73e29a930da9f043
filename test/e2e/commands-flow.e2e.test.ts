/**
 * Chat commands and edits meet albums, bursts and late messages (issues 21 §3–§5, 23 §2,
 * §5), on Telegram through the compiled binary: grammY against the fake Bot API, the agent
 * against the fake OpenAI-compatible server. What the chat sees and what the model was asked.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type BotCall, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;

let bot: FakeBotApi;
let ai: FakeOpenAi;
let gw: RunningGateway;
beforeAll(async () => {
  bot = startFakeBotApi();
  ai = startFakeOpenAi(() => "ok");
  const cfg = {
    telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["*"] },
    agent: { backend: "openai", openai: { baseUrl: ai.url, model: "good" } },
    inbound: { albumWindowMs: 2_500, debounceMs: 2_000 },
  };
  gw = await spawnGateway({ target, stateDir: tempStateDir(cfg), env: { TELEGRAM_BOT_TOKEN: bot.token, OPENAI_API_KEY: "sk-test" } });
  const { c } = await TestClient.connect(gw.url);
  await until(async () => (await c.request("health")).payload.telegram.connected, "telegram connected");
  c.close();
});
afterAll(() => {
  gw?.stop();
  bot.stop();
  ai.stop();
});

const toChat = (chat: number): BotCall[] => bot.sent("sendMessage").filter((c) => String(c.params.chat_id) === String(chat));
/** The model requests whose last user turn mentions `needle` (text parts joined), and their image count. */
const userTurn = (body: any) => body.messages.filter((m: any) => m.role === "user").at(-1)?.content;
const textOf = (c: any): string => (typeof c === "string" ? c : c.filter((p: any) => p.type === "text").map((p: any) => p.text).join("\n"));
const asked = (needle: string) => ai.requests.filter((r) => textOf(userTurn(r.body)).includes(needle));
const images = (body: any) => {
  const c = userTurn(body);
  return typeof c === "string" ? 0 : c.filter((p: any) => p.type === "image_url").length;
};

async function inbound(chat: number) {
  const { c } = await TestClient.connect(gw.url);
  const recs = (await c.request("ledger.list", { direction: "inbound", limit: 1_000 })).payload.records.filter((r: any) => r.chat === String(chat));
  c.close();
  return recs;
}
const photo = (n: number) => {
  const id = bot.addFile(new Uint8Array(400 + n).fill(n), `photos/cf_${n}.jpg`);
  return [{ file_id: id, file_unique_id: `cf${n}`, width: 10, height: 10, file_size: 400 + n }];
};

describe("commands meet albums, bursts and late messages", () => {
  test("two album photos then /stop: the chat gets only the confirmation counting them, the model is never asked", async () => {
    const from = { id: 9101, username: "stopper" };
    const album = { media_group_id: "91011", text: undefined };
    bot.userSays("", from, 9101, { ...album, photo: photo(1), caption: "identify these birds" });
    bot.userSays("", from, 9101, { ...album, photo: photo(2) });
    bot.userSays("/stop", from, 9101);
    await until(() => toChat(9101).length >= 1, "the confirmation", 15_000);
    const recs = await until(async () => {
      const r = await inbound(9101);
      return r.filter((x: any) => x.reason === "stopped by /stop").length === 2 ? r : null;
    }, "both photos' records", 15_000);
    expect(recs.filter((x: any) => x.reason === "stopped by /stop").map((x: any) => x.status)).toEqual(["skipped", "skipped"]);
    await Bun.sleep(3_000);
    expect(toChat(9101).map((c) => c.params.text)).toEqual(["Stopped 2 queued messages."]);
    expect(asked("identify these birds")).toEqual([]);
  }, 40_000);

  test("/status while an album is collected counts it as queued; /new then drops it: nothing written before /new reaches the new conversation", async () => {
    const from = { id: 9105, username: "newer" };
    bot.userSays("my old topic", from, 9105);
    await until(() => toChat(9105).length === 1, "the first answer", 15_000);
    const album = { media_group_id: "91055", text: undefined };
    bot.userSays("", from, 9105, { ...album, photo: photo(6), caption: "old photos" });
    bot.userSays("", from, 9105, { ...album, photo: photo(7) });
    bot.userSays("/status", from, 9105);
    bot.userSays("/new", from, 9105);
    await until(() => toChat(9105).length === 3, "the two command replies", 15_000);
    expect(String(toChat(9105)[1]!.params.text)).toContain("Runs: 0 running, 2 queued");
    expect(toChat(9105)[2]!.params.text).toBe("New conversation started (the last one, 1 turn, is kept on disk). Dropped 2 messages not answered yet.");
    await Bun.sleep(3_000);
    bot.userSays("a new topic", from, 9105);
    await until(() => toChat(9105).length === 4, "the answer in the new conversation", 15_000);
    expect(asked("old photos")).toEqual([]);
    const run = asked("a new topic")[0]!;
    expect(JSON.stringify(run.body.messages)).not.toContain("my old topic");
    const recs = await inbound(9105);
    expect(recs.filter((r: any) => r.reason === "stopped by /new").length).toBe(2);
  }, 40_000);

  test("an album whose first caption is /status: one run with all three photos, one answer, no command", async () => {
    const from = { id: 9102, username: "captioner" };
    const album = { media_group_id: "91022", text: undefined };
    bot.userSays("", from, 9102, { ...album, photo: photo(3), caption: "/status" });
    bot.userSays("", from, 9102, { ...album, photo: photo(4) });
    bot.userSays("", from, 9102, { ...album, photo: photo(5) });
    await until(() => toChat(9102).length >= 1, "the answer", 15_000);
    await Bun.sleep(3_000);
    expect(toChat(9102).map((c) => c.params.text)).toEqual(["ok"]);
    const runs = asked("/status");
    expect(runs.map((r) => images(r.body))).toEqual([3]);
    expect((await inbound(9102)).some((r: any) => r.command)).toBe(false);
  }, 40_000);

  test("an edit inside the debounce window replaces just that line of the merged turn", async () => {
    const from = { id: 9103, username: "editor" };
    const first = bot.userSays("first line", from, 9103);
    bot.userSays("second line", from, 9103);
    await Bun.sleep(400);
    bot.edits(first, "first line (fixed)");
    await until(() => toChat(9103).length >= 1, "the answer", 15_000);
    await Bun.sleep(1_000);
    expect(toChat(9103).length).toBe(1);
    const runs = asked("second line");
    expect(runs.length).toBe(1);
    expect(textOf(userTurn(runs[0]!.body))).toContain("first line (fixed)\nsecond line");
    const recs = await inbound(9103);
    expect(recs.some((r: any) => r.reason === "edit applied to the queued turn")).toBe(true);
  }, 40_000);

  test("a /new written 3 h ago is not carried out; /stop@otherbot is plain text for the agent", async () => {
    const from = { id: 9104, username: "late" };
    bot.userSays("remember the number 42", from, 9104);
    await until(() => toChat(9104).length === 1, "the first answer", 15_000);
    bot.userSays("/new", from, 9104, { date: Math.floor(Date.now() / 1000) - 3 * 3_600 });
    const late = await until(async () => (await inbound(9104)).find((r: any) => r.command === "new") ?? null, "the late command's record", 15_000);
    expect(late).toMatchObject({ status: "skipped", reason: "late command, not carried out" });
    bot.userSays("/stop@otherbot", from, 9104);
    await until(() => toChat(9104).length === 2, "the answer to /stop@otherbot", 15_000);
    // The conversation went on: the model saw the earlier turn, so /new did nothing.
    const run = asked("/stop@otherbot")[0]!;
    expect(JSON.stringify(run.body.messages)).toContain("remember the number 42");
    expect(toChat(9104).map((c) => c.params.text)).toEqual(["ok", "ok"]);
  }, 40_000);
});
