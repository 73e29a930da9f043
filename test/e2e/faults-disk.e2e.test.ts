/**
 * Issue 22 §1–2 through the compiled binary: the state dir on a real 1 MiB tmpfs, filled
 * to the brim while a Telegram chat and a client use the gateway, then freed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { startFakeBotApi, type FakeBotApi } from "../helpers/fake-bot-api.ts";
import { spawnGateway, type RunningGateway } from "../helpers/gateway.ts";
import { mountSmallFs, type SmallFs } from "../helpers/tmpfs.ts";
import { until } from "../helpers/until.ts";

const mounted = mountSmallFs(1024);
const skip = "reason" in mounted ? mounted.reason : null;
if (skip) console.warn(`skipped: ${skip}`);
const fs = mounted as SmallFs;

let bot: FakeBotApi;
let gw: RunningGateway;
let c: TestClient;

beforeAll(async () => {
  if (skip) return;
  bot = startFakeBotApi();
  // Text kept in the ledger: its lines are long, so a burst runs out of room mid-line.
  writeFileSync(join(fs.dir, "clawdis.json"), JSON.stringify({ telegram: { apiRoot: bot.apiRoot, allowFrom: ["@alice"], pollTimeoutS: 1 }, ledger: { storeText: true } }));
  gw = await spawnGateway({ stateDir: fs.dir, env: { TELEGRAM_BOT_TOKEN: bot.token } });
  c = (await TestClient.connect(gw.url)).c;
});
afterAll(async () => {
  if (skip) return;
  c?.close();
  await gw?.stop();
  bot?.stop();
  fs.unmount();
});

const replies = (text: string) => bot.sent("sendMessage").filter((x) => x.params.text === text);
const ledgerLines = () => readFileSync(join(fs.dir, "ledger", "ledger.jsonl"), "utf8");

describe.skipIf(skip !== null)("a full state dir (ENOSPC on a real tmpfs)", () => {
  test("it says so, keeps every record whole, and answers what arrived meanwhile once space returns", async () => {
    bot.userSays("before the disk filled");
    await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "before the disk filled", 15_000);
    // That reply's bookkeeping settles first (its outbox entry and kept message removed): a file the
    // gateway deleted after the fill would free space again and the "full" disk would take the send.
    const settled = (dir: string) => !existsSync(dir) || readdirSync(dir).length === 0;
    await until(() => settled(join(fs.dir, "outbox")) && settled(join(fs.dir, "inbound")), "the first reply's outbox and kept message removed", 10_000);

    fs.fill();
    const key = crypto.randomUUID();
    const send = await c.request("send", { to: "4242", message: "sent while full", provider: "telegram", idempotencyKey: key });
    expect(send.ok).toBe(false);
    expect(send.error).toMatchObject({ code: "UNAVAILABLE", retryable: true });
    expect(send.error.message).toMatch(/^the state dir is full \(ENOSPC at \/.+\)$/);
    expect(replies("sent while full")).toHaveLength(0);

    // health: not ok, with the disk finding, while it lasts; one line on stderr.
    const h = await until(async () => {
      const r = (await c.request("health")).payload;
      return r.ok === false ? r : null;
    }, "health.ok false", 10_000);
    expect(h.disk).toMatchObject({ full: true, code: "ENOSPC" });
    expect(h.disk.message).toMatch(/^the state dir is full \(ENOSPC at /);
    expect(gw.stderr().match(/^clawdis: the state dir is full \(ENOSPC at .+$/gm)).toHaveLength(1);

    // A message arriving now cannot be recorded or answered: it is held, not lost, not answered yet.
    const burst = Array.from({ length: 6 }, (_, i) => `burst ${i} ${"x".repeat(700)}`);
    for (const text of burst) bot.userSays(text);
    const update = bot.userSays("arrived while full");
    // The gateway took it in (its next poll asks past it), and its run had time to fail.
    await until(() => bot.offsets.some((o) => o > update), "the gateway to fetch the message", 20_000);
    await Bun.sleep(1_500);
    expect(replies("arrived while full")).toHaveLength(0);
    // Whatever failed, the ledger ends at a record boundary.
    expect(ledgerLines().endsWith("\n")).toBe(true);

    fs.free();
    await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === "arrived while full", 20_000);
    const healthy = await until(async () => {
      const r = (await c.request("health")).payload;
      return r.ok === true ? r : null;
    }, "health.ok true again", 10_000);
    expect(healthy.disk).toBeUndefined();
    // Answered from memory by the hold (not by luck of a provider replay).
    expect(gw.stdout()).toMatch(/the state dir has space again: answering \d+ message\(s\) held meanwhile/);
    for (const text of burst) await bot.waitFor((x) => x.method === "sendMessage" && x.params.text === text, 20_000);
    // The client's retry with the same key goes out, once.
    const retry = await c.request("send", { to: "4242", message: "sent while full", provider: "telegram", idempotencyKey: key });
    expect(retry.ok).toBe(true);
    // Telegram replays the unconfirmed batch once polling recovers: still one answer each.
    await Bun.sleep(3_000);
    expect(replies("arrived while full")).toHaveLength(1);
    expect(replies("sent while full")).toHaveLength(1);
    expect(replies("before the disk filled")).toHaveLength(1);
    for (const text of burst) expect(replies(text)).toHaveLength(1);

    await gw.stop();
    if (process.env.FAULTS_DEBUG) console.log(gw.stdout());
    // Every ledger line parses, and every record is there.
    const records = ledgerLines()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; direction: string; status: string; idempotencyKey?: string; chat: string });
    const last = new Map(records.map((r) => [r.id, r]));
    const inbound = [...last.values()].filter((r) => r.direction === "inbound" && r.status !== "duplicate");
    expect(inbound.map((r) => r.status)).toEqual(Array(2 + burst.length).fill("replied"));
    expect([...last.values()].find((r) => r.idempotencyKey === `${key}:1` || r.idempotencyKey === key)?.status).toBe("sent");
  }, 90_000);
});
