/** WhatsApp linking, stop codes, sockets and sends, against the fake peer that behaves as rc14 and WhatsApp do. */
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { initAuthCreds } from "@whiskeysockets/baileys";
import { statePaths } from "../../src/paths.ts";
import { WhatsAppAuthStore } from "../../src/providers/whatsapp/auth-store.ts";
import { TestClient } from "../helpers/client.ts";
import { FakeWaPeer, FakeWaSocket } from "../helpers/fake-baileys.ts";
import { BINARY, tempStateDir } from "../helpers/gateway.ts";
import { health, linkedStateDir, openGateway, startWa, until } from "./wa-helpers.ts";

describe("pairing-code login", () => {
  test("the fake refuses a pairing-code request made before the noise handshake (428), as WhatsApp does", async () => {
    const creds = initAuthCreds();
    const sock = new FakeWaSocket({ auth: { creds, keys: { get: async () => ({}), set: async () => {} } } } as any, new FakeWaPeer());
    await expect(sock.requestPairingCode("15551234567")).rejects.toMatchObject({ output: { statusCode: 428 } });
    sock.qr("2@ref");
    expect(await sock.requestPairingCode("15551234567")).toBe("ABCDEFGH");
  });

  test("the code is requested on the first qr update, nothing claiming a link is saved, and the phone then links", async () => {
    const peer = new FakeWaPeer();
    // The handshake takes a moment; WhatsApp then sends pairing refs (shown as QR updates).
    peer.onSocket = (s) => setTimeout(() => (s.qr("2@ref-1"), s.qr("2@ref-2")), 50);
    const dir = tempStateDir();
    const { url } = await startWa(dir, peer);
    const { c } = await TestClient.connect(url);
    const started = await c.request("web.login.start", { pairingPhone: "+1 555 123 4567" });
    expect(started.payload).toEqual({ pairingCode: "ABCDEFGH" });
    expect(peer.sockets).toHaveLength(1);
    expect(peer.last.pairingRequests).toEqual([{ phone: "15551234567", accepted: true }]);
    // Baileys saved creds.me with the request; that is not a link.
    const store = new WhatsAppAuthStore(statePaths(dir).whatsappCreds);
    await until(() => existsSync(join(statePaths(dir).whatsappCreds, "creds.json")));
    expect(store.readCreds()?.me?.id).toBe("15551234567@s.whatsapp.net");
    expect(store.isLinked()).toBe(false);
    expect((await health(url)).web.linked).toBe(false);
    // A socket made from these credentials registers again instead of logging in.
    expect((await store.state()).state.creds.me).toBeUndefined();
    const waiting = c.request("web.login.wait", { timeoutMs: 5_000 });
    await Bun.sleep(30);
    peer.last.link("15551234567:9@s.whatsapp.net");
    expect((await waiting).payload).toEqual({ linked: true });
    await until(() => store.isLinked(), 2_000, "linked credentials on disk");
    expect((await health(url)).web).toMatchObject({ linked: true, connected: true });
    c.close();
  });
});

describe("clawdis login --pairing-code (compiled binary, through the running gateway)", () => {
  test("prints the code WhatsApp gave after the handshake and exits 0 once the phone links", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => setTimeout(() => s.qr("2@ref"), 50);
    const dir = tempStateDir();
    await startWa(dir, peer, {}, { lock: true });
    const proc = spawn(BINARY, ["login", "--pairing-code", "+15551234567"], { env: { ...process.env, CLAWDIS_STATE_DIR: dir }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    proc.stdout!.on("data", (d) => (out += d));
    proc.stderr!.on("data", (d) => (out += d));
    await until(() => out.includes("ABCDEFGH"), 10_000, "the pairing code");
    expect(out).toContain("Link with phone number: ABCDEFGH");
    expect(peer.last.pairingRequests).toEqual([{ phone: "15551234567", accepted: true }]);
    peer.last.link("15551234567:9@s.whatsapp.net");
    const code = await new Promise<number | null>((r) => proc.on("exit", r));
    expect(out).toContain("WhatsApp linked");
    expect(code).toBe(0);
  }, 20_000);
});

describe("codes that never heal stop, keep the credentials and say what to do", () => {
  const cases: [number, RegExp, RegExp][] = [
    [403, /forbidden \(403\)/, /banned or restricted/],
    [405, /version refused \(405\)/, /whatsapp\.waVersion/],
    [411, /multi-device mismatch \(411\)/, /clawdis logout, then clawdis login/],
  ];
  for (const [code, stopped, action] of cases) {
    test(`${code}`, async () => {
      const { url, peer, dir } = await openGateway();
      peer.last.close(code, `closed ${code}`);
      await until(async () => (await health(url)).web.stopped !== undefined, 3_000, "stopped");
      const h = await health(url);
      expect(h.web).toMatchObject({ linked: true, connected: false, lastDisconnect: { code } });
      expect(h.web.stopped).toMatch(stopped);
      expect(h.web.action).toMatch(action);
      await Bun.sleep(400);
      expect(peer.sockets).toHaveLength(1);
      expect(new WhatsAppAuthStore(statePaths(dir).whatsappCreds).isLinked()).toBe(true);
    });
  }

  test("whatsapp.waVersion overrides the bundled WhatsApp Web version", async () => {
    const { sock } = await openGateway(["*"], { whatsapp: { waVersion: [2, 3000, 1234567890] } });
    expect(sock.config.version).toEqual([2, 3000, 1234567890]);
  });
});

describe("abandoned logins and stray sockets", () => {
  test("QR codes that run out (408) end the login instead of making QR codes forever", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.qr("2@QR");
    const { url } = await startWa(tempStateDir(), peer);
    const { c } = await TestClient.connect(url);
    expect((await c.request("web.login.start", {})).payload).toEqual({ qr: "2@QR" });
    const waiting = c.request("web.login.wait", { timeoutMs: 5_000 });
    await Bun.sleep(30);
    peer.last.qrRefsEnded();
    const res = await waiting;
    expect(res.error).toMatchObject({ code: "UNAVAILABLE", message: expect.stringContaining("login abandoned") });
    await Bun.sleep(400);
    expect(peer.sockets).toHaveLength(1);
    expect((await health(url)).web.stopped).toContain("login abandoned");
    c.close();
  });

  test("a login started while a reconnect is pending opens one socket, and the pending reconnect never fires", async () => {
    const peer = new FakeWaPeer();
    const dir = await linkedStateDir();
    const { url } = await startWa(dir, peer, {}, { backoff: { initialMs: 600, maxMs: 600 } });
    (await peer.waitForSockets(1)).open();
    await until(async () => (await health(url)).web.connected);
    peer.onSocket = (s) => s.open();
    peer.last.close(428, "connection closed"); // reconnect in 300–600 ms
    const { c } = await TestClient.connect(url);
    expect((await c.request("web.login.start", {})).payload).toEqual({ alreadyLinked: true });
    await Bun.sleep(900);
    expect(peer.sockets).toHaveLength(2);
    c.close();
  });
});

describe("sends", () => {
  test("a number not on WhatsApp is refused (INVALID_REQUEST), asked once and cached", async () => {
    const { url, peer, sock } = await openGateway();
    peer.notOnWhatsApp.add("15550009999");
    const { c } = await TestClient.connect(url);
    for (const key of ["a", "b"]) {
      const res = await c.request("send", { to: "+1 555 000 9999", message: "hi", idempotencyKey: key });
      expect(res.error).toMatchObject({ code: "INVALID_REQUEST", message: expect.stringContaining("not on WhatsApp") });
    }
    expect(sock.onWhatsAppCalls).toEqual([["15550009999@s.whatsapp.net"]]);
    expect(sock.sent).toEqual([]);
    // The id WhatsApp gets is derived from the idempotency key (a retry reuses it).
    expect((await c.request("send", { to: "+15550001111", message: "ok", idempotencyKey: "c" })).payload.messageId).toMatch(/^3EB0[0-9A-F]{18}$/);
    c.close();
  });

  test("a recipient's retry request is answered from the recent-sent store (getMessage)", async () => {
    const { url, sock } = await openGateway();
    const { c } = await TestClient.connect(url);
    const res = await c.request("send", { to: "+15550001111", message: "please decrypt me", idempotencyKey: "k" });
    expect(await sock.retryRequest({ remoteJid: "15550001111@s.whatsapp.net", id: res.payload.messageId, fromMe: true })).toEqual({ conversation: "please decrypt me" });
    expect(await sock.retryRequest({ remoteJid: "15550001111@s.whatsapp.net", id: "NEVER-SENT", fromMe: true })).toBeUndefined();
    c.close();
  });
});

describe("health.web.authAgeMs", () => {
  test("counts from when the link was made, not from the last credentials write", async () => {
    const { url, dir, sock } = await openGateway();
    const creds = join(statePaths(dir).whatsappCreds, "creds.json");
    const first = (await health(url)).web.authAgeMs;
    await Bun.sleep(300);
    // Baileys rewrites creds.json on every connect.
    sock.emit("creds.update", {});
    await until(() => Date.now() - Bun.file(creds).lastModified < 200, 2_000, "a fresh creds.json");
    utimesSync(creds, new Date(), new Date());
    expect((await health(url)).web.authAgeMs).toBeGreaterThanOrEqual(first + 280);
  });

  test("a new link starts the count at zero", async () => {
    const peer = new FakeWaPeer();
    peer.onSocket = (s) => s.qr("2@QR");
    const { url } = await startWa(tempStateDir(), peer);
    const { c } = await TestClient.connect(url);
    await c.request("web.login.start", {});
    peer.last.link();
    await until(async () => (await health(url)).web.connected);
    expect((await health(url)).web.authAgeMs).toBeLessThan(1_000);
    c.close();
  });
});
