/** Issue 16 §1 and §2: who may start a run — the pure decision, every branch with its exact reason. */
import { describe, expect, test } from "bun:test";
import { decide, type ChatPolicy, type InboundFacts, type PairingFacts } from "../../src/inbound/index.ts";

const policy = (p: Partial<ChatPolicy> = {}, groups: Partial<ChatPolicy["groups"]> = {}): ChatPolicy => ({
  dmPolicy: "allowlist",
  allowFrom: ["@alice"],
  ...p,
  groups: { policy: "disabled", allow: [], requireMention: true, ...groups },
});
const dm = (m: Partial<InboundFacts> = {}): InboundFacts => ({
  provider: "telegram",
  chatType: "private",
  chat: "999",
  sender: "999",
  senderNames: ["@mallory"],
  addressed: false,
  ...m,
});
const group = (m: Partial<InboundFacts> = {}): InboundFacts => dm({ chatType: "group", chat: "-100", ...m });
const fresh: PairingFacts = { approved: false, pending: false, pendingCount: 0, maxPending: 3, code: "ABCD2345" };

describe("private chats: dmPolicy", () => {
  test("allowlist (default): an allowed sender runs in its own session; a stranger is skipped, naming the key", () => {
    expect(decide(dm({ senderNames: ["@alice"] }), policy(), fresh)).toEqual({ action: "run", sessionId: "telegram:999", group: false });
    expect(decide(dm(), policy(), fresh)).toEqual({ action: "skip", reason: "sender not in telegram.allowFrom" });
  });

  test("open lets anyone in, like allowFrom [\"*\"]", () => {
    expect(decide(dm(), policy({ dmPolicy: "open", allowFrom: [] }), fresh).action).toBe("run");
    expect(decide(dm(), policy({ allowFrom: ["*"] }), fresh).action).toBe("run");
  });

  test("WhatsApp numbers match by digits", () => {
    const m = dm({ provider: "whatsapp", sender: "15550001111@s.whatsapp.net", senderNames: [] });
    expect(decide(m, policy({ allowFrom: ["+1 555 000 1111"] }), fresh).action).toBe("run");
    expect(decide(m, policy({ allowFrom: ["+1 555 000 2222"] }), fresh)).toEqual({ action: "skip", reason: "sender not in whatsapp.allowFrom" });
  });

  test("pairing: a stranger gets a code; a repeat within the hour gets nothing; a full queue gets nothing", () => {
    const p = policy({ dmPolicy: "pairing" });
    expect(decide(dm(), p, fresh)).toEqual({ action: "pair", code: "ABCD2345", reason: "pairing requested" });
    expect(decide(dm(), p, { ...fresh, pending: true, pendingCount: 1 })).toEqual({ action: "skip", reason: "pairing pending" });
    expect(decide(dm(), p, { ...fresh, pendingCount: 3 })).toEqual({ action: "skip", reason: "pairing queue full" });
  });

  test("an approved sender runs at once, whatever the allow-list says", () => {
    expect(decide(dm(), policy({ dmPolicy: "pairing" }), { ...fresh, approved: true }).action).toBe("run");
  });

  test("approvals belong to pairing: under allowlist an approved sender not in allowFrom is skipped", () => {
    expect(decide(dm(), policy({ dmPolicy: "allowlist" }), { ...fresh, approved: true })).toMatchObject({ action: "skip" });
  });
});

describe("groups", () => {
  test("disabled (default) and groups not on the allow-list: group not allowed", () => {
    expect(decide(group({ addressed: true }), policy(), fresh)).toEqual({ action: "skip", reason: "group not allowed" });
    expect(decide(group({ addressed: true }), policy({}, { policy: "allowlist", allow: ["-200"] }), fresh)).toEqual({
      action: "skip",
      reason: "group not allowed",
    });
  });

  test("a group let in: only messages addressed to the bot run, in the group's own session", () => {
    const p = policy({}, { policy: "allowlist", allow: ["-100"], allowFrom: ["*"] });
    expect(decide(group(), p, fresh)).toEqual({ action: "skip", reason: "not mentioned" });
    expect(decide(group({ addressed: true }), p, fresh)).toEqual({ action: "run", sessionId: "telegram:-100", group: true });
  });

  test("a Telegram forum topic is let in by its group's id; the topic keeps its own session", () => {
    const p = policy({}, { policy: "allowlist", allow: ["-100"], allowFrom: ["*"] });
    expect(decide(group({ chat: "-100:45", addressed: true }), p, fresh)).toEqual({ action: "run", sessionId: "telegram:-100:45", group: true });
    expect(decide(group({ chat: "-200:45", addressed: true }), p, fresh)).toEqual({ action: "skip", reason: "group not allowed" });
  });

  test("requireMention: false answers every line; the sender allow-list does not apply in groups", () => {
    const p = policy({ allowFrom: [] }, { policy: "open", requireMention: false });
    expect(decide(group(), p, fresh)).toEqual({ action: "run", sessionId: "telegram:-100", group: true });
    // A pairing policy never hands out codes in a group.
    expect(decide(group(), policy({ dmPolicy: "pairing" }, { policy: "open" }), fresh)).toEqual({ action: "skip", reason: "not mentioned" });
  });
});

describe("groups.allowFrom (issue 23 §7): who in an allowed group may start a run", () => {
  const open = { policy: "open" as const };
  test("unset: the private allow-list when it names someone — others are skipped with the reason", () => {
    const p = policy({ allowFrom: ["@alice"] }, open);
    expect(decide(group({ addressed: true, senderNames: ["@alice"] }), p, fresh).action).toBe("run");
    expect(decide(group({ addressed: true, senderNames: ["@mallory"] }), p, fresh)).toEqual({ action: "skip", reason: "sender not allowed in group" });
    // Unaddressed lines say "not mentioned" first: the sender rule only speaks for a message that would run.
    expect(decide(group({ senderNames: ["@mallory"] }), p, fresh)).toEqual({ action: "skip", reason: "not mentioned" });
  });

  test("unset with a private list of \"*\" or nobody: anyone in the group; under pairing, approved senders count", () => {
    expect(decide(group({ addressed: true }), policy({ allowFrom: ["*"] }, open), fresh).action).toBe("run");
    expect(decide(group({ addressed: true }), policy({ allowFrom: [] }, open), fresh).action).toBe("run");
    const pairing = policy({ dmPolicy: "pairing", allowFrom: ["@alice"] }, open);
    expect(decide(group({ addressed: true }), pairing, { ...fresh, approved: true }).action).toBe("run");
    expect(decide(group({ addressed: true }), pairing, fresh)).toEqual({ action: "skip", reason: "sender not allowed in group" });
  });

  test("set: only its own list counts (ids, @names, phone numbers), whatever the private list says", () => {
    const p = policy({ allowFrom: ["*"] }, { ...open, allowFrom: ["@bob", "12345"] });
    expect(decide(group({ addressed: true, senderNames: ["@Bob"] }), p, fresh).action).toBe("run");
    expect(decide(group({ addressed: true, sender: "12345", senderNames: [] }), p, fresh).action).toBe("run");
    expect(decide(group({ addressed: true }), p, fresh)).toEqual({ action: "skip", reason: "sender not allowed in group" });
  });
});

describe("the owner's own chat (issue 23 §1)", () => {
  const self = dm({ provider: "whatsapp", chat: "15559990000@s.whatsapp.net", sender: "15559990000@s.whatsapp.net", senderNames: ["+15559990000"], self: true });
  test("is input like an allowed private message, whatever dmPolicy and allowFrom say", () => {
    expect(decide(self, policy({ allowFrom: [] }), fresh)).toEqual({ action: "run", sessionId: "whatsapp:15559990000@s.whatsapp.net", group: false });
    expect(decide(self, policy({ dmPolicy: "pairing", allowFrom: [] }), fresh).action).toBe("run");
  });
  test("whatsapp.selfChat: false skips it, naming the key", () => {
    expect(decide(self, policy({ selfChat: false }), fresh)).toEqual({ action: "skip", reason: "self chat off (whatsapp.selfChat: false)" });
  });
});
