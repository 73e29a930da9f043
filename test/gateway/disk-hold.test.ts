/** Messages held while the disk was full: past inbound.retryWindowMs they are not run, and say why; the bound holds. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { InboundHold } from "../../src/gateway/disk-hold.ts";
import type { GatewayContext } from "../../src/gateway/context.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { createLogger } from "../../src/log.ts";
import type { InboundMessage } from "../../src/providers/types.ts";
import { tempStateDir } from "../helpers/gateway.ts";

const msg = (id: string): InboundMessage => ({
  provider: "telegram",
  chat: "4242",
  sender: "7",
  senderNames: ["@alice"],
  messageId: id,
  text: `hi ${id}`,
  ts: Date.now(),
  chatType: "private",
  addressed: false,
});

function gateway() {
  const lines: string[] = [];
  const ledger = new Ledger({ dir: join(tempStateDir(), "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1e9, maxRecords: 1000 });
  const gw = {
    ledger,
    config: { inbound: { retryWindowMs: 1_000 } },
    log: createLogger({ stdoutLevel: "debug", write: (l) => lines.push(l) }),
    disk: { full: null },
  } as unknown as GatewayContext;
  return { gw, ledger, lines };
}

describe("InboundHold", () => {
  test("a held message past inbound.retryWindowMs is ledgered skipped (or, never recorded, said in the log), not run", async () => {
    const { gw, ledger, lines } = gateway();
    const hold = new InboundHold();
    const rec = await ledger.create({ direction: "inbound", provider: "telegram", chat: "4242", providerMessageId: "m1", status: "received" });
    const old = Date.now() - 5_000;
    hold.hold(gw, msg("m1"), old);
    hold.hold(gw, msg("m2"), old);
    await hold.release(gw);
    expect(ledger.get(rec.id)).toMatchObject({ status: "skipped", reason: "too old: held while the state dir was full, past inbound.retryWindowMs" });
    expect(lines.filter((l) => l.includes("a message was not answered: too old: held while the state dir was full"))).toHaveLength(1);
    expect(lines.some((l) => l.includes("answering 2 message(s) held meanwhile"))).toBe(true);
  });

  test("what was answered or skipped is not held; a replay of a held message is held once; the oldest beyond 200 are given up", async () => {
    const { gw, ledger, lines } = gateway();
    const hold = new InboundHold();
    await ledger.create({ direction: "inbound", provider: "telegram", chat: "4242", providerMessageId: "done", status: "replied" });
    hold.hold(gw, msg("done"), Date.now());
    hold.hold(gw, msg("again"), Date.now());
    hold.hold(gw, msg("again"), Date.now());
    for (let i = 0; i < 205; i++) hold.hold(gw, msg(`n${i}`), Date.now() - 10_000);
    expect(lines.filter((l) => l.includes("too many messages held; the oldest is given up"))).toHaveLength(6);
    await hold.release(gw);
    // 200 held: the oldest ("again") went first; every one past the window, so each is said, none run.
    expect(lines.filter((l) => l.includes("a message was not answered"))).toHaveLength(200);
  });
});
