import { describe, expect, test } from "bun:test";
import { Presence } from "../../src/gateway/presence.ts";
import { helloOkJson } from "../../src/gateway/welcome.ts";
import type { HelloOk } from "../../src/protocol/index.ts";

describe("hello-ok's presence list from the entries' kept JSON", () => {
  test("listJson is JSON.stringify(list()) after joins, notes and leaves", () => {
    const p = new Presence({ ttlMs: 60_000, maxEntries: 100, coalesceMs: 0, publish: () => {} });
    for (let i = 0; i < 5; i++) p.upsert({ instanceId: `i${i}`, host: "h", ip: "127.0.0.1", version: "1", mode: "cli", ts: i, reason: "connect" }, true);
    expect(p.listJson()).toBe(JSON.stringify(p.list()));
    p.note({ instanceId: "i2", host: "h", ip: "127.0.0.1", version: "1", mode: "cli", ts: 5, text: "a note with \u001b and \"quotes\"" });
    p.release("i3", "disconnect");
    p.upsert({ instanceId: "i4", host: "h2", ip: "127.0.0.1", version: "1", mode: "cli", ts: 9, reason: "connect" }, true);
    expect(p.listJson()).toBe(JSON.stringify(p.list()));
    p.stop();
  });

  test("the list is spliced in whole, whatever the entries hold (even $-patterns or the marker's own text)", () => {
    const frame = { type: "hello-ok", protocol: 1, snapshot: { presence: [], health: { note: "$&$1" }, uptimeMs: 1 } } as unknown as HelloOk;
    const list = [{ instanceId: "a$&", text: "\u0000presence-list\u0000" }];
    expect(JSON.parse(helloOkJson(frame, JSON.stringify(list)))).toEqual({ ...frame, snapshot: { ...frame.snapshot, presence: list } });
  });
});
