/**
 * Issue 21 §2: each provider sorts its own send failures (transient / outcome unknown /
 * final). Telegram: the real provider (grammY) against the fake Bot API, and against a
 * port nothing listens on; WhatsApp: Baileys-shaped failures (a Boom with its status).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { SendError, sendOutcome } from "../../src/providers/send-error.ts";
import { TelegramProvider } from "../../src/providers/telegram/index.ts";
import { classifyWaSend, waMessageId } from "../../src/providers/whatsapp/errors.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { tempStateDir } from "../helpers/gateway.ts";

let bot: FakeBotApi;
beforeAll(() => {
  bot = startFakeBotApi();
});
afterAll(() => bot.stop());

const telegram = (apiRoot: string, sendTimeoutS = 5) =>
  new TelegramProvider({ botToken: bot.token, apiRoot, sendTimeoutS }, { stateDir: tempStateDir(), log: silentLogger, onInbound: () => {}, onStatus: () => {} });
const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as SendError);

describe("Telegram send failures, as the Bot API and the network give them", () => {
  test("an HTML 502 page: transient, named by its status; health's lastError says the same", async () => {
    const p = telegram(bot.apiRoot);
    bot.sendFaults.push({ status: 502, html: true });
    const err = await failure(p.send({ to: "11", message: "x", idempotencyKey: "a" }));
    expect(err).toBeInstanceOf(SendError);
    expect(err).toMatchObject({ outcome: "transient", retryable: true, message: "Telegram answered 502 Bad Gateway" });
    expect(p.status().detail?.lastError).toBe("Telegram answered 502 Bad Gateway");
  });

  test("429: transient with the advised wait, however long", async () => {
    bot.sendFaults.push({ status: 429, retryAfter: 900 });
    const err = await failure(telegram(bot.apiRoot).send({ to: "11", message: "x", idempotencyKey: "b" }));
    expect(err).toMatchObject({ outcome: "transient", retryAfterMs: 900_000 });
  });

  test("403 blocked and 400 chat not found: final, with Telegram's words; not the provider's health", async () => {
    const p = telegram(bot.apiRoot);
    bot.sendFaults.push({ status: 403, description: "Forbidden: bot was blocked by the user" });
    const blocked = await failure(p.send({ to: "11", message: "x", idempotencyKey: "c" }));
    expect(blocked).toMatchObject({ outcome: "final", code: "INVALID_REQUEST" });
    expect(blocked!.message).toContain("the user blocked the bot");
    const missing = await failure(p.send({ to: "400", message: "x", idempotencyKey: "d" }));
    expect(missing).toMatchObject({ outcome: "final" });
    expect(missing!.message).toContain("chat not found");
    expect(p.status().detail?.lastError).toBeUndefined();
  });

  test("nothing listening: transient (nothing can have been sent); no answer in time: outcome unknown", async () => {
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const root = `http://127.0.0.1:${closed.port}`;
    closed.stop(true);
    const refused = await failure(telegram(root).send({ to: "11", message: "x", idempotencyKey: "e" }));
    expect(refused).toMatchObject({ outcome: "transient" });
    expect(refused!.message).toContain("telegram unreachable");
    const hung = await failure(telegram(bot.apiRoot, 1).send({ to: "hang", message: "x", idempotencyKey: "f" }));
    expect(hung).toMatchObject({ outcome: "unknown", retryable: false });
    expect(hung!.message).toContain("may have been sent");
  }, 10_000);
});

describe("WhatsApp send failures, as Baileys raises them", () => {
  const boom = (message: string, statusCode: number) => Object.assign(new Error(message), { isBoom: true, output: { statusCode } });

  test("the socket closing or replaced, timeouts, 5xx and rate-overlimit are transient; other WhatsApp refusals final; anything else untouched", () => {
    for (const [msg, code] of [["Connection Closed", 428], ["Timed Out", 408], ["stream errored", 515], ["internal-server-error", 500], ["service-unavailable", 503], ["rate-overlimit", 429], ["replaced", 440]] as const) {
      expect(sendOutcome(classifyWaSend(boom(msg, code)))).toBe("transient");
    }
    const refused = classifyWaSend(boom("not-acceptable", 406));
    expect(sendOutcome(refused)).toBe("final");
    expect((refused as Error).message).toBe("whatsapp refused the send: not-acceptable (406)");
    const bug = new TypeError("x is undefined");
    expect(classifyWaSend(bug)).toBe(bug);
  });

  test("a part's message id is stable per idempotency key and shaped like Baileys' own", () => {
    expect(waMessageId("k:part2")).toBe(waMessageId("k:part2"));
    expect(waMessageId("k:part2")).not.toBe(waMessageId("k"));
    expect(waMessageId("k")).toMatch(/^3EB0[0-9A-F]{18}$/);
  });
});
