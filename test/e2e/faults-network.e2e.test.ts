/**
 * Issue 22 §9 through the compiled binary: a service the network cannot reach is named as
 * such — WhatsApp at login and on the gateway's reconnects, Telegram's getMe, the agent
 * endpoint — instead of a QR timeout or a library's words.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BufferJSON, initAuthCreds } from "@whiskeysockets/baileys";
import { TestClient } from "../helpers/client.ts";
import { BINARY, spawnGateway, tempStateDir, type RunningGateway } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const netns = spawnSync("unshare", ["-n", "true"]).status === 0;
if (!netns) console.warn("skipped the WhatsApp cases: cannot make a network namespace here (unshare -n needs root)");
const UNREACHABLE_WA = /cannot reach WhatsApp \(web\.whatsapp\.com: [^)]*(ENOTFOUND|EAI_AGAIN|ENETUNREACH|ECONNREFUSED)[^)]*\) — check the network/;

/** A loopback port nothing listens on. */
function closedPort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

describe.skipIf(!netns)("WhatsApp unreachable (a network namespace with loopback only)", () => {
  test("clawdis login names the network and exits 3, without a QR-timeout story", () => {
    const dir = tempStateDir();
    const t0 = Date.now();
    const r = spawnSync("unshare", ["-n", BINARY, "login", "--wait-seconds", "30"], {
      env: { ...process.env, CLAWDIS_STATE_DIR: dir },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status).toBe(3);
    const last = r.stderr.trim().split("\n").at(-1)!;
    expect(last).toMatch(new RegExp(`^clawdis: ${UNREACHABLE_WA.source}$`));
    expect(r.stderr + r.stdout).not.toMatch(/QR codes ran out|not linked within|Scan this/);
    // Said as soon as the connection failed, not after the wait ran out.
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  test("through a running gateway (it owns the socket), clawdis login says the same and exits 3", () => {
    const dir = tempStateDir({});
    const script = `
      ip link set lo up
      "$0" gateway --port 0 --webchat-port 0 > "$1/out" 2>&1 &
      pid=$!
      for i in $(seq 1 100); do grep -q "listening on" "$1/out" && break; sleep 0.1; done
      "$0" login --wait-seconds 30 > "$1/login.out" 2> "$1/login.err"
      echo $? > "$1/login.code"
      kill $pid; wait $pid`;
    const r = spawnSync("unshare", ["-n", "sh", "-c", script, BINARY, dir], { env: { ...process.env, CLAWDIS_STATE_DIR: dir, CLAWDIS_GATEWAY_TOKEN: "" }, encoding: "utf8", timeout: 45_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "login.code"), "utf8").trim()).toBe("3");
    expect(readFileSync(join(dir, "login.err"), "utf8")).toMatch(new RegExp(`^clawdis: ${UNREACHABLE_WA.source}\n$`));
  }, 60_000);

  test("a linked gateway's reconnects say it in health web.lastError", () => {
    const dir = tempStateDir({});
    const creds = { ...initAuthCreds(), me: { id: "15550001111:1@s.whatsapp.net" }, account: { details: "AA==" } };
    mkdirSync(join(dir, "credentials", "whatsapp"), { recursive: true });
    writeFileSync(join(dir, "credentials", "whatsapp", "creds.json"), JSON.stringify(creds, BufferJSON.replacer));
    // Inside the namespace: start the gateway, ask its health until web.lastError appears, stop it.
    const script = `
      ip link set lo up
      "$0" gateway --port 0 --webchat-port 0 > "$1/out" 2>&1 &
      pid=$!
      for i in $(seq 1 100); do grep -q "listening on" "$1/out" && break; sleep 0.1; done
      port=$(grep -o 'listening on ws://127.0.0.1:[0-9]*' "$1/out" | grep -o '[0-9]*$')
      for i in $(seq 1 50); do
        "$0" health --json --url "ws://127.0.0.1:$port" > "$1/health.json" 2>/dev/null
        grep -q lastError "$1/health.json" && break
        sleep 0.2
      done
      kill $pid; wait $pid`;
    const r = spawnSync("unshare", ["-n", "sh", "-c", script, BINARY, dir], { env: { ...process.env, CLAWDIS_STATE_DIR: dir, CLAWDIS_GATEWAY_TOKEN: "" }, encoding: "utf8", timeout: 40_000 });
    expect(r.status, r.stderr).toBe(0);
    const health = JSON.parse(readFileSync(join(dir, "health.json"), "utf8"));
    expect(health.web.linked).toBe(true);
    expect(health.web.connected).toBe(false);
    expect(health.web.lastError).toMatch(new RegExp(`^${UNREACHABLE_WA.source}$`));
    expect(readFileSync(join(dir, "out"), "utf8")).toMatch(/warn .*whatsapp: cannot reach WhatsApp .*; reconnecting in \d+ ms/);
  }, 60_000);
});

describe("Telegram's getMe and the agent endpoint unreachable (a closed loopback port)", () => {
  let gw: RunningGateway;
  let tgPort: number;
  let agentPort: number;
  beforeAll(async () => {
    tgPort = closedPort();
    agentPort = closedPort();
    gw = await spawnGateway({
      config: {
        telegram: { apiRoot: `http://127.0.0.1:${tgPort}`, pollTimeoutS: 1 },
        agent: { backend: "openai", openai: { baseUrl: `http://127.0.0.1:${agentPort}/v1` } },
      },
      env: { TELEGRAM_BOT_TOKEN: "123456:TEST-token", OPENAI_API_KEY: "sk-test" },
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  test("health.telegram.lastError names Telegram, its host and the refusal", async () => {
    const { c } = await TestClient.connect(gw.url);
    const h = await until(async () => {
      const r = (await c.request("health")).payload;
      return r.telegram.lastError ? r : null;
    }, "telegram.lastError", 15_000);
    expect(h.telegram.connected).toBe(false);
    expect(h.telegram.lastError).toMatch(new RegExp(`^cannot reach Telegram \\(127\\.0\\.0\\.1:${tgPort}: [^)]*ECONNREFUSED[^)]*\\) — check the network$`));
    c.close();
  });

  test("an agent run whose endpoint cannot be reached ends in error saying so", async () => {
    const { c } = await TestClient.connect(gw.url);
    const id = crypto.randomUUID();
    const from = c.frames.length;
    c.send({ type: "req", id, method: "agent", params: { message: "hello?", idempotencyKey: crypto.randomUUID() } });
    const final = await c.next((f) => f.type === "res" && f.id === id && f.payload?.status !== "accepted", 15_000, from);
    const summary: string = final.ok ? final.payload.summary : final.error.message;
    expect(summary).toMatch(new RegExp(`cannot reach the agent endpoint \\(127\\.0\\.0\\.1:${agentPort}: [^)]*ECONNREFUSED[^)]*\\) — check the network`));
    c.close();
  });
});
