/**
 * The Node bundle (node dist/clawdis.mjs) talks to Telegram. Bundled, grammY's
 * `abort-controller` polyfill was renamed `AbortSignal2` and node-fetch refused every
 * request ("Expected signal to be an instanceof AbortSignal"); build/compile.ts now
 * bundles Node's own classes in its place (build/shims/abort-controller.ts).
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi } from "../helpers/fake-bot-api.ts";
import { spawnGateway } from "../helpers/gateway.ts";

describe("The Node bundle and grammY", () => {
  test("the bundle carries no renamed AbortSignal polyfill", () => {
    const bundle = readFileSync(join(import.meta.dir, "../../dist/clawdis.mjs"), "utf8");
    expect(bundle).not.toMatch(/class AbortSignal\d+ extends/);
  });

  test("on Node, Telegram polls (health: connected) and a send goes out", async () => {
    const bot = startFakeBotApi();
    const gw = await spawnGateway({ target: "node", config: { webchat: { enabled: false }, telegram: { apiRoot: bot.apiRoot, pollTimeoutS: 1 } }, env: { TELEGRAM_BOT_TOKEN: bot.token } });
    try {
      const { c } = await TestClient.connect(gw.url);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !(await c.request("health")).payload.telegram.connected) await new Promise((r) => setTimeout(r, 50));
      expect((await c.request("health")).payload.telegram.connected).toBe(true);
      const res = await c.request("send", { provider: "telegram", to: "4242", message: "from node", idempotencyKey: crypto.randomUUID() });
      expect(res.ok).toBe(true);
      expect(bot.sent().some((x) => x.method === "sendMessage" && x.params.text === "from node")).toBe(true);
      expect(gw.stdout()).not.toContain("instanceof AbortSignal");
      c.close();
    } finally {
      await gw.stop();
      bot.stop();
    }
  });
});
