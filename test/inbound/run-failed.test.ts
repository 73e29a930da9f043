/** Issue 21 §1 at the inbound seam: a failed run is reported once, after typing stopped; never for a success or a shutdown. */
import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunCause } from "../../src/agent/runner.ts";
import { Ledger } from "../../src/gateway/ledger.ts";
import { InboundGate, PairingStore, handleChatMessage, type InboundDeps } from "../../src/inbound/index.ts";
import { silentLogger } from "../../src/log.ts";
import { GatewayError, type AgentFinal } from "../../src/protocol/index.ts";

function world(run: () => { done: Promise<AgentFinal>; cause: RunCause }) {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-runfailed-"));
  const ledger = new Ledger({ dir: join(dir, "ledger"), storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1 << 24, maxRecords: 10_000 });
  const policy = { dmPolicy: "allowlist" as const, allowFrom: ["*"], groups: { policy: "disabled" as const, allow: [], requireMention: true } };
  const events: string[] = [];
  const deps: InboundDeps = {
    ledger,
    gate: new InboundGate(() => policy, new PairingStore(join(dir, "pairing"))),
    send: async () => ({ provider: "telegram", to: "1", messageId: "1", ts: 0 }),
    log: silentLogger,
    typing: () => () => events.push("typing stopped"),
    startRun: async () => {
      const r = run();
      return { runId: "r1", done: r.done, cause: r.done.then(() => r.cause, () => r.cause) };
    },
    runFailed: (msg, f) => events.push(`failed ${msg.messageId}: ${f.cause ?? (f.error as Error).message}`),
  };
  const say = (messageId: string) => handleChatMessage(deps, { provider: "telegram", chat: "5", sender: "5", senderNames: [], messageId, text: "hi" });
  return { ledger, events, say };
}

const final = (status: "ok" | "error", summary: string, delivery?: AgentFinal["delivery"]): AgentFinal => ({ runId: "r1", status, summary, ...(delivery ? { delivery } : {}) });

test("an error final, a timeout that rejects, an undelivered reply: reported once each, typing stopped first", async () => {
  const err = world(() => ({ done: Promise.resolve(final("error", "HTTP 500")), cause: "error" }));
  await err.say("m1");
  expect(err.events).toEqual(["typing stopped", "failed m1: error"]);
  const timeout = world(() => ({ done: Promise.reject(new GatewayError("AGENT_TIMEOUT", "agent did not finish within 1000 ms")), cause: "timeout" }));
  await timeout.say("m2");
  expect(timeout.events).toEqual(["typing stopped", "failed m2: agent did not finish within 1000 ms"]);
  expect(timeout.ledger.inbound("telegram", "m2")).toMatchObject({ status: "failed" });
  const lost = world(() => ({ done: Promise.resolve(final("ok", "hello", { ok: false, error: { code: "UNAVAILABLE", message: "x" } })), cause: "ok" }));
  await lost.say("m3");
  expect(lost.events).toEqual(["typing stopped", "failed m3: ok"]);
});

test("a reply that went out, or a run cut short by shutdown: nothing reported", async () => {
  const ok = world(() => ({ done: Promise.resolve(final("ok", "hello", { ok: true, provider: "telegram", messageId: "9" })), cause: "ok" }));
  await ok.say("m4");
  expect(ok.events).toEqual(["typing stopped"]);
  const shutdown = world(() => ({ done: Promise.resolve(final("error", "shutdown")), cause: "shutdown" }));
  await shutdown.say("m5");
  expect(shutdown.events).toEqual(["typing stopped"]);
  expect(shutdown.ledger.inbound("telegram", "m5")).toMatchObject({ status: "interrupted" });
});
