/** The message ledger: every inbound message and outbound send accounted for, across kill -9. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
let bot: FakeBotApi;
let gw: RunningGateway;
let stateDir: string;
const start = (port = "0") => spawnGateway({ target, stateDir, args: ["--port", port], env: { TELEGRAM_BOT_TOKEN: bot.token } });

beforeAll(async () => {
  bot = startFakeBotApi();
  stateDir = tempStateDir({ telegram: { apiRoot: bot.apiRoot, allowFrom: ["@alice"], pollTimeoutS: 2 } });
  gw = await start();
});
afterAll(async () => {
  await gw.stop();
  bot.stop();
});

async function records(filter: Record<string, unknown> = {}) {
  const { c } = await TestClient.connect(gw.url);
  const res = (await c.request("ledger.list", { limit: 100, ...filter })).payload.records;
  c.close();
  return res as any[];
}

async function until<T>(fn: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(25);
  }
}

describe("Ledger: inbound", () => {
  test("an allowed message ends replied, with its run and the reply on the same path", async () => {
    const id = bot.userSays("ledger hello");
    const rec = await until(async () => (await records({ direction: "inbound" })).find((r) => r.status === "replied"));
    expect(rec).toMatchObject({ provider: "telegram", chat: "4242", direction: "inbound" });
    expect(rec.runId).toBeString();
    expect(rec.text).toBeUndefined(); // storeText is off by default
    const { c } = await TestClient.connect(gw.url);
    const got = (await c.request("ledger.get", { id: rec.id })).payload;
    const reply = got.related.find((r: any) => r.direction === "outbound");
    expect(reply).toMatchObject({ status: "sent", chat: "4242", provider: "telegram" });
    expect(reply.providerMessageId).toBeString();
    c.close();
    // The same update replayed is recorded as a duplicate of the first, and not answered again.
    bot.replay(id);
    const dup = await until(async () => (await records()).find((r) => r.status === "duplicate"));
    expect(dup.reason).toBe(`duplicate of ${rec.id}`);
    await Bun.sleep(300);
    expect(bot.sent().filter((x) => x.params.text === "ledger hello").length).toBe(1);
  });

  test("a sender not allowed is recorded as skipped, with the reason", async () => {
    bot.userSays("let me in", { id: 777, username: "mallory" });
    const rec = await until(async () => (await records()).find((r) => r.status === "skipped"));
    expect(rec).toMatchObject({ chat: "777", reason: "sender not in telegram.allowFrom" });
  });
});

describe("Ledger: outbound", () => {
  test("a sent and a failed send each get a record; the failure keeps the provider's error", async () => {
    const { c } = await TestClient.connect(gw.url);
    const ok = await c.request("send", { to: "4242", message: "ledger send", provider: "telegram", idempotencyKey: "ledger-ok" });
    expect(ok.ok).toBe(true);
    const bad = await c.request("send", { to: "400", message: "nowhere", provider: "telegram", idempotencyKey: "ledger-bad" });
    expect(bad.ok).toBe(false);
    c.close();
    const out = await records({ direction: "outbound" });
    expect(out.find((r) => r.idempotencyKey === "ledger-ok")).toMatchObject({ status: "sent", providerMessageId: ok.payload.messageId });
    const failed = out.find((r) => r.idempotencyKey === "ledger-bad");
    expect(failed.status).toBe("failed");
    expect(failed.reason).toContain("chat not found");
    expect((await records({ status: "failed" })).map((r) => r.id)).toContain(failed.id);
  });

  test("clawdis gateway trace prints the path of a message", async () => {
    const inbound = (await records({ status: "replied" }))[0];
    const res = await runCli(["gateway", "trace", inbound.id, "--url", gw.url], { target });
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n");
    expect(lines[0]).toContain("replied");
    expect(lines[0]).toContain(inbound.runId);
    expect(lines.some((l) => l.includes("→ telegram 4242") && l.includes("sent"))).toBe(true);
    const list = await runCli(["gateway", "trace", "--last", "3", "--url", gw.url], { target });
    expect(list.stdout.trim().split("\n").length).toBe(3);
  });
});

describe("Ledger: survives kill -9", () => {
  test("records are all there after a kill -9 and restart; a torn last line is ignored", async () => {
    const before = await records();
    const port = String(gw.port);
    gw.proc.kill("SIGKILL");
    await gw.exited;
    // A write torn by the kill: half a line at the end of the file.
    const file = join(stateDir, "ledger", "ledger.jsonl");
    await Bun.write(file, `${readFileSync(file, "utf8")}{"id":"torn","ts":1`);
    gw = await start(port);
    const after = await records();
    expect(after.map((r) => `${r.id}:${r.status}`).sort()).toEqual(before.map((r) => `${r.id}:${r.status}`).sort());
    // Send idempotency comes from the ledger: the same key after the restart is not sent again.
    const { c } = await TestClient.connect(gw.url);
    const again = await c.request("send", { to: "4242", message: "ledger send", provider: "telegram", idempotencyKey: "ledger-ok" });
    expect(again.ok).toBe(true);
    expect(bot.sent().filter((x) => x.params.text === "ledger send").length).toBe(1);
    c.close();
  });

  test("a send cut short by kill -9 is not sent again after the restart: the retry says its outcome is unknown", async () => {
    const { c } = await TestClient.connect(gw.url);
    c.send({ type: "req", id: "s", method: "send", params: { to: "hang", message: "maybe sent", provider: "telegram", idempotencyKey: "ledger-hang" } });
    await bot.waitFor((x) => x.method === "sendMessage" && String(x.params.chat_id) === "hang");
    const port = String(gw.port);
    gw.proc.kill("SIGKILL");
    await gw.exited;
    gw = await start(port);
    const { c: c2 } = await TestClient.connect(gw.url);
    const retry = await c2.request("send", { to: "hang", message: "maybe sent", provider: "telegram", idempotencyKey: "ledger-hang" });
    expect(retry.error.code).toBe("UNAVAILABLE");
    expect(retry.error.message).toContain("interrupted");
    expect(retry.error.retryable).toBe(false);
    expect(bot.calls.filter((x) => x.method === "sendMessage" && String(x.params.chat_id) === "hang").length).toBe(1);
    const rec = (await c2.request("ledger.list", { status: "interrupted", limit: 100 })).payload.records.find((r: any) => r.idempotencyKey === "ledger-hang");
    expect(rec.reason).toContain("interrupted");
    c2.close();
  });
});
