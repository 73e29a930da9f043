/** WhatsApp through the real provider and gateway, with a fake Baileys peer at the socket-factory seam. */
import { afterEach, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import makeWASocket from "@whiskeysockets/baileys";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { createGateway, type Gateway } from "../../src/gateway/server.ts";
import { statePaths } from "../../src/paths.ts";
import { WhatsAppAuthStore } from "../../src/providers/whatsapp/auth-store.ts";
import { TestClient } from "../helpers/client.ts";
import { FakeWaPeer, linkedCreds } from "../helpers/fake-baileys.ts";
import { BINARY, tempStateDir } from "../helpers/gateway.ts";

const ME = "15559990000:7@s.whatsapp.net";
let running: Gateway[] = [];
afterEach(async () => {
  for (const g of running) await g.stop("test over");
  running = [];
});

async function linkedStateDir(): Promise<string> {
  const dir = tempStateDir();
  const creds = linkedCreds(ME);
  await new WhatsAppAuthStore(statePaths(dir).whatsappCreds).saveCreds(creds);
  return dir;
}

async function start(dir: string, peer: FakeWaPeer, config: Record<string, unknown> = {}, lock = false) {
  const cfg = v.parse(ConfigSchema, { gateway: { port: 0, presenceCoalesceMs: 0 }, ...config });
  const g = createGateway({ config: cfg, stateDir: dir, lock, whatsapp: { makeSocket: peer.factory, backoff: { initialMs: 50, maxMs: 200 }, healthyAfterMs: 300 } });
  running.push(g);
  const { url } = await g.start();
  return { g, url };
}

async function health(url: string) {
  const { c } = await TestClient.connect(url);
  const h = (await c.request("health")).payload;
  c.close();
  return h;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 3_000, what = "condition") {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

describe("WhatsApp: connection and disconnect codes", () => {
  test("stored credentials connect at start; health.web and a pushed health event say so", async () => {
    const peer = new FakeWaPeer();
    const dir = await linkedStateDir();
    const { url } = await start(dir, peer);
    const { c } = await TestClient.connect(url);
    const sock = await peer.waitForSockets(1);
    expect((sock.config.auth as any).creds.me.id).toBe(ME);
    sock.open();
    const ev = await c.next((f) => f.event === "health" && f.payload.web.connected);
    expect(ev.payload.web).toMatchObject({ linked: true, connected: true, reconnectAttempts: 0 });
    expect(typeof ev.payload.web.lastConnectedAt).toBe("number");
    expect(ev.payload.web.authAgeMs).toBeGreaterThanOrEqual(0);
    c.close();
  });

  test("an ordinary close reconnects with backoff; the counter resets after a healthy minute (shortened here)", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const { url } = await start(await linkedStateDir(), peer);
    await peer.waitForSockets(1);
    peer.last.close(428, "connection closed");
    await peer.waitForSockets(2);
    peer.last.close(408, "timed out");
    const third = await peer.waitForSockets(3);
    await until(async () => (await health(url)).web.connected);
    let h = await health(url);
    expect(h.web.reconnectAttempts).toBe(2);
    expect(h.web.lastDisconnect).toMatchObject({ code: 408, reason: "timed out" });
    await until(async () => (await health(url)).web.reconnectAttempts === 0, 2_000, "counter reset");
    expect(third.ended).toBe(false);
  });

  test("515 restart-required reconnects at once, without counting an attempt", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const { url } = await start(await linkedStateDir(), peer);
    await peer.waitForSockets(1);
    const t = Date.now();
    peer.last.close(515, "restart required");
    await peer.waitForSockets(2);
    expect(Date.now() - t).toBeLessThan(200);
    await until(async () => (await health(url)).web.connected);
    expect((await health(url)).web.reconnectAttempts).toBe(0);
  });

  test("401 logged-out stops, clears the credentials and reports web.linked=false with the reason", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const dir = await linkedStateDir();
    const { url } = await start(dir, peer);
    await peer.waitForSockets(1);
    peer.last.close(401, "logged out");
    await until(async () => !(await health(url)).web.linked);
    const h = await health(url);
    expect(h.web).toMatchObject({ linked: false, connected: false, stopped: "logged out (401)" });
    await until(() => !existsSync(join(statePaths(dir).whatsappCreds, "creds.json")));
    await Bun.sleep(300);
    expect(peer.sockets.length).toBe(1);
    const { c } = await TestClient.connect(url);
    expect((await c.request("send", { to: "+15550001111", message: "x", provider: "whatsapp", idempotencyKey: "k" })).error.code).toBe("NOT_LINKED");
    c.close();
  });

  test("440 connection-replaced stops and reports it, with no retry loop", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const { url } = await start(await linkedStateDir(), peer);
    await peer.waitForSockets(1);
    peer.last.close(440, "replaced");
    await Bun.sleep(400);
    expect(peer.sockets.length).toBe(1);
    expect((await health(url)).web).toMatchObject({ linked: true, connected: false, stopped: "connection replaced (440)" });
  });
});

describe("WhatsApp: messages", () => {
  test("send goes to the JID; one made while WhatsApp is (re)connecting waits for it (delivery.retryWindowMs)", async () => {
    const peer = new FakeWaPeer();
    const { url } = await start(await linkedStateDir(), peer);
    const sock = await peer.waitForSockets(1);
    const { c } = await TestClient.connect(url);
    c.send({ type: "req", id: "early", method: "send", params: { to: "+1 555 000 1111", message: "early", idempotencyKey: crypto.randomUUID() } });
    await until(async () => (await health(url)).web.retrying === 1);
    expect(sock.sent).toEqual([]);
    sock.open();
    const early = await c.next((f) => f.type === "res" && f.id === "early", 10_000);
    expect(early.payload).toMatchObject({ provider: "whatsapp", to: "15550001111@s.whatsapp.net", messageId: expect.stringMatching(/^3EB0[0-9A-F]{18}$/) });
    const res = await c.request("send", { to: "+1 555 000 1111", message: "hi", idempotencyKey: crypto.randomUUID() });
    expect(res.payload).toMatchObject({ provider: "whatsapp", to: "15550001111@s.whatsapp.net" });
    expect(sock.sent).toEqual([
      { jid: "15550001111@s.whatsapp.net", content: { text: "early" } },
      { jid: "15550001111@s.whatsapp.net", content: { text: "hi" } },
    ]);
    expect(peer.attempts.map((a) => a.id)).toEqual([early.payload.messageId, res.payload.messageId]);
    c.close();
  });

  test("inbound: an allowed sender gets the agent's reply once, even when the message is replayed; others are ignored", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.open();
    const { url } = await start(await linkedStateDir(), peer, { whatsapp: { allowFrom: ["+15550001111"] } });
    const sock = await peer.waitForSockets(1);
    await until(async () => (await health(url)).web.connected);
    sock.incoming("15550001111@s.whatsapp.net", "hello whatsapp", "MSG-1");
    sock.incoming("15550001111@s.whatsapp.net", "hello whatsapp", "MSG-1"); // replay after a reconnect
    sock.incoming("15557777777@s.whatsapp.net", "spam", "MSG-2");
    await until(() => sock.sent.length >= 1);
    await Bun.sleep(300);
    expect(sock.sent).toEqual([{ jid: "15550001111@s.whatsapp.net", content: { text: "hello whatsapp" } }]);
  });
});

describe("WhatsApp: linking and credentials", () => {
  test("web.login through the gateway: QR, the phone links, credentials saved with mode 0600", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.qr("2@FAKE-QR-CODE");
    const dir = tempStateDir();
    const { url } = await start(dir, peer);
    expect((await health(url)).web.linked).toBe(false);
    const { c } = await TestClient.connect(url);
    const started = await c.request("web.login.start", {});
    expect(started.payload).toEqual({ qr: "2@FAKE-QR-CODE" });
    const waiting = c.request("web.login.wait", { timeoutMs: 5_000 });
    await Bun.sleep(50);
    peer.last.link();
    expect((await waiting).payload).toEqual({ linked: true });
    const file = join(statePaths(dir).whatsappCreds, "creds.json");
    await until(() => existsSync(file));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(statePaths(dir).whatsappCreds).mode & 0o777).toBe(0o700);
    expect((await health(url)).web).toMatchObject({ linked: true, connected: true });
    const out = await c.request("web.logout");
    expect(out.payload).toEqual({ linked: false });
    expect(peer.last.loggedOut).toBe(true);
    expect(existsSync(file)).toBe(false);
    c.close();
  });

  test("clawdis login (compiled binary) goes through the running gateway and exits 0 once linked", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.qr("2@QR-FOR-CLI");
    const dir = tempStateDir();
    await start(dir, peer, {}, true);
    const proc = spawn(BINARY, ["login"], { env: { ...process.env, CLAWDIS_STATE_DIR: dir }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    await until(() => out.includes("Linked devices"), 10_000, "the QR code");
    expect(out).toMatch(/[▀▄█]/);
    peer.last.link();
    const code = await new Promise<number | null>((r) => proc.on("exit", r));
    expect(out).toContain("WhatsApp linked");
    expect(code).toBe(0);
  });

  test("credential writes survive kill -9 at any moment; a corrupt main file is restored from the backup", async () => {
    const dir = join(tempStateDir(), "wa");
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, [join(import.meta.dir, "..", "fixtures", "creds-writer.ts"), dir], { stdio: ["ignore", "pipe", "ignore"] });
      await new Promise<void>((r) => child.stdout!.once("data", () => r()));
      await Bun.sleep(30 + Math.random() * 120);
      child.kill("SIGKILL");
      await new Promise((r) => child.on("exit", r));
      const creds = new WhatsAppAuthStore(dir).readCreds();
      expect(creds?.me?.id).toBe(ME);
      expect(typeof creds?.nextPreKeyId).toBe("number");
    }
    writeFileSync(join(dir, "creds.json"), '{"torn": tr');
    const store = new WhatsAppAuthStore(dir);
    expect(store.readCreds()?.me?.id).toBe(ME);
    await Bun.sleep(100);
    expect(JSON.parse(readFileSync(join(dir, "creds.json"), "utf8")).me.id).toBe(ME);
  }, 30_000);

  test("the real makeWASocket is built from stored credentials without touching the network", async () => {
    const dir = await linkedStateDir();
    const stored = new WhatsAppAuthStore(statePaths(dir).whatsappCreds).readCreds()!;
    let seen: any = null;
    const cfg = v.parse(ConfigSchema, { gateway: { port: 0 } });
    const g = createGateway({
      config: cfg,
      stateDir: dir,
      lock: false,
      whatsapp: {
        // The real Baileys socket, pointed at a loopback port where nothing listens.
        waWebSocketUrl: "ws://127.0.0.1:9/ws/chat",
        backoff: { initialMs: 60_000, maxMs: 60_000 },
        makeSocket: (config) => {
          seen = config.auth;
          return makeWASocket(config) as any;
        },
      },
    });
    running.push(g);
    const { url } = await g.start();
    await until(() => seen !== null);
    expect(seen.creds.me.id).toBe(ME);
    expect(Buffer.from(seen.creds.noiseKey.public).equals(Buffer.from(stored.noiseKey.public))).toBe(true);
    await until(async () => (await health(url)).web.lastDisconnect !== undefined, 10_000, "the socket to close");
    const h = await health(url);
    expect(h.web.connected).toBe(false);
    expect(h.web.linked).toBe(true);
  }, 20_000);
});
