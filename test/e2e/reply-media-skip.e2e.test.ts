/**
 * A reply's `MEDIA:` file that cannot go out — refused by the media URL guard, or not
 * fetchable when its turn comes — is skipped with its reason; the reply's text still goes
 * (once), the message counts as answered, and the chat hears no "could not be delivered".
 * Through the compiled binary: grammY against the fake Bot API, the agent against the
 * fake OpenAI server. Two gateways: `media.allowPrivateUrls` off (the default) and on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { fileServer } from "../helpers/file-server.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const PDF = new TextEncoder().encode("%PDF-1.4\n% a tiny report\n");
const ALICE = { id: 4242, username: "alice" };

interface Side {
  bot: FakeBotApi;
  gw: RunningGateway;
}
let strict: Side;
let open: Side;
let model: FakeOpenAi;
let files: ReturnType<typeof Bun.serve>;
/** Paths the file server was asked for. */
let fetched: string[] = [];
let answer = "ok";

async function start(media: Record<string, unknown>): Promise<Side> {
  const bot = startFakeBotApi();
  const cfg = {
    telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1, allowFrom: ["@alice"] },
    agent: { backend: "openai", openai: { baseUrl: model.url, model: "good" } },
    media,
  };
  const gw = await spawnGateway({ target, stateDir: tempStateDir(cfg), env: { TELEGRAM_BOT_TOKEN: bot.token, OPENAI_API_KEY: "sk-test" } });
  const { c } = await TestClient.connect(gw.url);
  await until(async () => (await c.request("health")).payload.telegram.connected, "telegram connected");
  c.close();
  return { bot, gw };
}

beforeAll(async () => {
  model = startFakeOpenAi(() => answer);
  ({ server: files, fetched } = fileServer((path) =>
    path === "/report.pdf" ? new Response(PDF, { headers: { "content-type": "application/pdf" } }) : new Response("no such file", { status: 404 }),
  ));
  [strict, open] = await Promise.all([start({}), start({ allowPrivateUrls: true })]);
});
afterAll(async () => {
  await Promise.all([strict?.gw.stop(), open?.gw.stop()]);
  strict?.bot.stop();
  open?.bot.stop();
  model?.stop();
  files?.stop(true);
});

/** Alice asks (her only message to this gateway); resolves once its inbound record has left `received`, with the chat's records. */
async function askAndSettle(side: Side, text: string) {
  const { c } = await TestClient.connect(side.gw.url);
  try {
    side.bot.userSays(text, ALICE);
    const inbound = await until(async () => {
      const recs = (await c.request("ledger.list", { direction: "inbound", limit: 100 })).payload.records;
      const r = recs.find((x: any) => x.chat === "4242");
      return r && r.status !== "received" ? r : null;
    }, "the message answered", 20_000);
    const outbound = (await c.request("ledger.list", { direction: "outbound", limit: 100 })).payload.records.filter((r: any) => r.chat === "4242");
    const health = (await c.request("health")).payload;
    return { inbound, outbound, health };
  } finally {
    c.close();
  }
}

/** What the bot sent to Alice's chat (typing indicators aside). */
const toAlice = (bot: FakeBotApi) => bot.calls.filter((call) => call.method.startsWith("send") && call.method !== "sendChatAction" && String(call.params.chat_id) === "4242");

describe("A MEDIA: file that cannot go out is skipped; the text still goes", () => {
  test("a loopback URL with media.allowPrivateUrls off: refused before the send, never fetched", async () => {
    answer = `Here is the report.\nMEDIA: http://127.0.0.1:${files.port}/report.pdf`;
    const fetchedBefore = fetched.length;
    const { inbound, outbound } = await askAndSettle(strict, "send me the report");
    expect(inbound.status).toBe("replied");
    // Let a stray error reply or document arrive if one were coming.
    await Bun.sleep(500);
    expect(toAlice(strict.bot).map((call) => [call.method, call.params.text])).toEqual([["sendMessage", "Here is the report."]]);
    const file = outbound.find((r: any) => r.idempotencyKey?.endsWith(":deliver:media:1"));
    expect(file).toMatchObject({ status: "skipped", provider: "telegram" });
    expect(file.reason).toBe(`MEDIA: http://127.0.0.1:${files.port}/report.pdf: refused: loopback address (media.allowPrivateUrls is off); to allow it, add "127.0.0.1" to media.allowUrlHosts`);
    expect(outbound.filter((r: any) => r.status === "failed")).toEqual([]);
    // The guard decided on the address: the file server never saw a request.
    expect(fetched.length).toBe(fetchedBefore);
  });

  test("a URL answering 404 (media.allowPrivateUrls on): skipped when its turn comes, the reply still delivered", async () => {
    answer = `Here is the report.\nMEDIA: http://127.0.0.1:${files.port}/missing.pdf`;
    const { inbound, outbound, health } = await askAndSettle(open, "send me the report");
    expect(inbound.status).toBe("replied");
    await Bun.sleep(500);
    expect(toAlice(open.bot).map((call) => [call.method, call.params.text])).toEqual([["sendMessage", "Here is the report."]]);
    expect(fetched).toContain("/missing.pdf");
    const file = outbound.find((r: any) => r.idempotencyKey?.endsWith(":deliver:media:1"));
    expect(file).toMatchObject({ status: "skipped", provider: "telegram", reason: `MEDIA: http://127.0.0.1:${files.port}/missing.pdf: HTTP 404` });
    expect(outbound.filter((r: any) => r.status === "failed")).toEqual([]);
    // One file refused is not Telegram's state.
    expect(health.telegram.lastError).toBeUndefined();
  });
});
