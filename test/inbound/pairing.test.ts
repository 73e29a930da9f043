/** Issue 16 §1: the pairing store — codes, expiry, the pending cap, approve/reject, files on disk. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InboundGate, PAIRING_ALPHABET, PairingStore, newPairingCode, pairingReplyText, type ChatPolicy } from "../../src/inbound/index.ts";

const tmp = () => join(mkdtempSync(join(tmpdir(), "clawdis-pairing-")), "pairing");
const HOUR = 3_600_000;

describe("pairing codes", () => {
  test("8 characters, no look-alikes (0/O, 1/I), well spread", () => {
    expect(PAIRING_ALPHABET).not.toMatch(/[01OI]/);
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const c = newPairingCode();
      expect(c).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
      seen.add(c);
    }
    expect(seen.size).toBe(2_000);
  });

  test("the stranger's reply holds the code and the owner's command, nothing else", () => {
    const text = pairingReplyText("telegram", "ABCD2345");
    expect(text).toContain("ABCD2345");
    expect(text).toContain("clawdis pairing approve telegram ABCD2345");
  });
});

describe("PairingStore", () => {
  test("a request is listed with its expiry (1 h); files are 0600 in a 0700 directory", async () => {
    const dir = tmp();
    let now = 1_000_000;
    const store = new PairingStore(dir, () => now);
    const req = await store.add("telegram", "999", "ABCD2345", "Mallory");
    expect(req).toEqual({ provider: "telegram", code: "ABCD2345", sender: "999", name: "Mallory", createdAt: now, expiresAt: now + HOUR });
    expect(store.list()).toEqual([req]);
    expect(store.pendingFor("telegram", "999")).toEqual(req);
    expect(statSync(join(dir, "telegram.json")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir)).toEqual(["telegram.json"]); // no temp files left behind
    now += HOUR;
    expect(store.list()).toEqual([]);
    expect(store.pendingFor("telegram", "999")).toBeUndefined();
  });

  test("approve lets the sender in at once and survives a restart; the code is matched without case", async () => {
    const dir = tmp();
    const store = new PairingStore(dir);
    await store.add("whatsapp", "1555@s.whatsapp.net", "ABCD2345");
    expect(store.isApproved("whatsapp", "1555@s.whatsapp.net")).toBe(false);
    const ok = await store.approve("whatsapp", "abcd2345");
    expect(ok).toMatchObject({ provider: "whatsapp", sender: "1555@s.whatsapp.net", code: "ABCD2345" });
    expect(store.isApproved("whatsapp", "1555@s.whatsapp.net")).toBe(true);
    expect(store.list()).toEqual([]);
    expect(new PairingStore(dir).isApproved("whatsapp", "1555@s.whatsapp.net")).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, "whatsapp.json"), "utf8")).approved.length).toBe(1);
  });

  test("reject drops the request; the sender is not approved", async () => {
    const store = new PairingStore(tmp());
    await store.add("telegram", "999", "ABCD2345");
    expect(await store.reject("telegram", "ABCD2345")).toEqual({ provider: "telegram", code: "ABCD2345", sender: "999" });
    expect(store.list()).toEqual([]);
    expect(store.isApproved("telegram", "999")).toBe(false);
  });

  test("unknown and expired codes are typed errors that say which", async () => {
    let now = 5_000_000;
    const store = new PairingStore(tmp(), () => now);
    await store.add("telegram", "999", "ABCD2345");
    await expect(store.approve("telegram", "ZZZZ9999")).rejects.toMatchObject({ code: "INVALID_REQUEST", details: { field: "params.code", reason: "unknown" } });
    // A code of the other provider is unknown here.
    await expect(store.approve("whatsapp", "ABCD2345")).rejects.toMatchObject({ details: { reason: "unknown" } });
    now += HOUR + 1;
    await expect(store.approve("telegram", "ABCD2345")).rejects.toMatchObject({ code: "INVALID_REQUEST", details: { reason: "expired" } });
    await expect(store.reject("telegram", "ABCD2345")).rejects.toThrow(/expired at/);
  });
});

describe("InboundGate: policy + store", () => {
  const pairing: ChatPolicy = { dmPolicy: "pairing", allowFrom: [], groups: { policy: "disabled", allow: [], requireMention: true } };
  const stranger = (sender: string) => ({ provider: "telegram" as const, chatType: "private" as const, chat: sender, sender, senderNames: [], addressed: false });

  test("first message: a code, stored; again within the hour: pending; a fourth stranger: queue full; approved: run", async () => {
    let now = 10_000_000;
    const gate = new InboundGate(() => pairing, new PairingStore(tmp(), () => now));
    const first = await gate.admit(stranger("1"), "One");
    expect(first).toMatchObject({ action: "pair", reason: "pairing requested" });
    const code = first.action === "pair" ? first.code : "";
    expect(gate.pairing.list().map((r) => [r.sender, r.code, r.name])).toEqual([["1", code, "One"]]);
    await gate.pairing.markCodeSent("telegram", code);
    expect(await gate.admit(stranger("1"))).toEqual({ action: "skip", reason: "pairing pending" });
    await gate.admit(stranger("2"));
    await gate.admit(stranger("3"));
    expect(await gate.admit(stranger("4"))).toEqual({ action: "skip", reason: "pairing queue full" });
    await gate.pairing.approve("telegram", code);
    expect(await gate.admit(stranger("1"))).toMatchObject({ action: "run", sessionId: "telegram:1" });
    // After the hour, a stranger still waiting may ask again and gets a new code.
    now += HOUR;
    const again = await gate.admit(stranger("2"));
    expect(again.action).toBe("pair");
  });
});

describe("approved senders: listing, revoking, WhatsApp ids (review of issue 16, point 4)", () => {
  const pairing: ChatPolicy = { dmPolicy: "pairing", allowFrom: [], groups: { policy: "disabled", allow: [], requireMention: true } };
  const LID = "123456789012345@lid";
  const PN = "15550001111@s.whatsapp.net";
  const wa = (sender: string, senderNames: string[]) => ({ provider: "whatsapp" as const, chatType: "private" as const, chat: sender, sender, senderNames, addressed: true });

  test("approvedList shows each approval; revoke makes the sender a stranger again (a new code on their next message), on disk too", async () => {
    const dir = tmp();
    const gate = new InboundGate(() => pairing, new PairingStore(dir));
    const first = await gate.admit({ provider: "telegram", chatType: "private", chat: "7", sender: "7", senderNames: ["@seven"], addressed: true }, "Seven");
    const code = first.action === "pair" ? first.code : "";
    await gate.pairing.approve("telegram", code);
    expect(gate.pairing.approvedList()).toEqual([{ provider: "telegram", sender: "7", name: "Seven", code, approvedAt: expect.any(Number) }]);
    const revoked = await gate.pairing.revoke("telegram", "7");
    expect(revoked).toMatchObject({ provider: "telegram", sender: "7", code });
    expect(gate.pairing.approvedList()).toEqual([]);
    expect(new PairingStore(dir).isApproved("telegram", "7")).toBe(false);
    expect((await gate.admit({ provider: "telegram", chatType: "private", chat: "7", sender: "7", senderNames: [], addressed: true })).action).toBe("pair");
  });

  test("revoking an unknown sender is INVALID_REQUEST naming it and the command that lists approvals", async () => {
    const store = new PairingStore(tmp());
    const err = await store.revoke("telegram", "404").catch((e) => e);
    expect(err).toMatchObject({ code: "INVALID_REQUEST", details: { field: "params.sender", sender: "404" } });
    expect(err.message).toContain("clawdis pairing approved");
  });

  test("WhatsApp: an approval made for a LID still matches once the phone number is known, and is learnt; revoke by +phone", async () => {
    const dir = tmp();
    const gate = new InboundGate(() => pairing, new PairingStore(dir));
    // First seen by LID only.
    const first = await gate.admit(wa(LID, [LID]));
    expect(first.action).toBe("pair");
    await gate.pairing.approve("whatsapp", first.action === "pair" ? first.code : "");
    // Now the phone number is known: the sender is the phone JID, the LID is among the names.
    expect((await gate.admit(wa(PN, ["+15550001111", LID]))).action).toBe("run");
    // Learnt: the phone JID alone matches too (and after a restart).
    expect(new PairingStore(dir).isApproved("whatsapp", PN)).toBe(true);
    expect((await gate.admit(wa(PN, ["+15550001111"]))).action).toBe("run");
    expect(gate.pairing.approvedList()[0]!.ids?.sort()).toEqual([LID, PN].sort());
    // A pending request is matched by either id as well: no second code.
    await gate.pairing.revoke("whatsapp", "+15550001111");
    expect(gate.pairing.isApproved("whatsapp", [PN, LID])).toBe(false);
    const again = await gate.admit(wa(PN, ["+15550001111", LID]));
    expect(again.action).toBe("pair");
    await gate.pairing.markCodeSent("whatsapp", again.action === "pair" ? again.code : "");
    expect(await gate.admit(wa(LID, [LID]))).toEqual({ action: "skip", reason: "pairing pending" });
  });
});

describe("a pairing code saved but never sent (review of issue 16, point 10)", () => {
  const pairing: ChatPolicy = { dmPolicy: "pairing", allowFrom: [], groups: { policy: "disabled", allow: [], requireMention: true } };
  const stranger = { provider: "telegram" as const, chatType: "private" as const, chat: "5", sender: "5", senderNames: [], addressed: true };

  test("a crash between saving the request and sending its code: the next message gets the same code; once sent, no more", async () => {
    const dir = tmp();
    const first = await new InboundGate(() => pairing, new PairingStore(dir)).admit(stranger);
    const code = first.action === "pair" ? first.code : "";
    // The crash: a new store reads what was saved; the code never went out.
    const gate = new InboundGate(() => pairing, new PairingStore(dir));
    expect(await gate.admit(stranger)).toEqual({ action: "pair", code, reason: "pairing requested" });
    await gate.pairing.markCodeSent("telegram", code);
    expect(await gate.admit(stranger)).toEqual({ action: "skip", reason: "pairing pending" });
    expect(await new InboundGate(() => pairing, new PairingStore(dir)).admit(stranger)).toEqual({ action: "skip", reason: "pairing pending" });
    // The flag stays inside: the protocol's list shows the plain request.
    expect(Object.keys(gate.pairing.list()[0]!).sort()).toEqual(["code", "createdAt", "expiresAt", "provider", "sender"]);
  });
});

describe("the message that got a stranger a code (issue 23 §7)", () => {
  const held = { provider: "telegram" as const, chat: "55", sender: "55", senderNames: [], messageId: "55:1", text: "is it open?", ts: 0 };
  test("is kept with the request (never shown by pairing.list), handed back on approval, and dropped from disk once the request expires", async () => {
    let now = 1_000_000;
    const dir = tmp();
    const store = new PairingStore(dir, () => now);
    await store.add("telegram", "55", "ABCD2345", "Ann", ["55"], { ...held, ts: now });
    expect(store.list()[0]).not.toHaveProperty("held");
    expect(await store.approve("telegram", "ABCD2345")).toMatchObject({ sender: "55", held: { text: "is it open?", chat: "55" } });

    await store.add("telegram", "66", "EFGH2345", undefined, ["66"], { ...held, sender: "66", chat: "66", text: "secret words", ts: now });
    expect(readFileSync(join(dir, "telegram.json"), "utf8")).toContain("secret words");
    now += HOUR + 1;
    await store.add("telegram", "77", "JKLM2345");
    expect(readFileSync(join(dir, "telegram.json"), "utf8")).not.toContain("secret words");
  });
});
