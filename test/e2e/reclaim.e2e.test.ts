/**
 * After a join storm the gateway collects its garbage once the storm is over, instead of
 * holding the hello-oks' text until the runtime next collects (10–20 s later, BENCHMARKS.md 4a).
 */
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { helloFrame } from "../helpers/client.ts";
import { spawnGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const CLIENTS = 1_500;
const sockets: WebSocket[] = [];
afterAll(() => {
  for (const ws of sockets) ws.close();
});

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

// Bun.gc in the binary; V8's gc (reached through --expose-gc and a fresh context) on Node and Deno.
test.each(["binary", "node", "deno"] as Target[])(`%s: a storm of ${CLIENTS} joins is followed by one collection, and RSS comes down`, async (target) => {
  const g = await spawnGateway({ target, config: { gateway: { logLevel: "debug", maxPendingHandshakes: 2_000 }, webchat: { enabled: false } } });
  const join1 = () =>
    new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(g.url);
      sockets.push(ws);
      ws.onopen = () => ws.send(JSON.stringify(helloFrame({ caps: ["presence-deltas"] })));
      ws.onmessage = () => resolve();
      ws.onerror = () => reject(new Error("connect failed"));
    });
  for (let i = 0; i < CLIENTS; i += 50) await Promise.all(Array.from({ length: Math.min(50, CLIENTS - i) }, join1));
  // Each joiner's hello-ok held the whole list: ~1,500²/2 entries of text in all, far past 64 MiB.
  const peak = rssMiB(g.proc.pid!);
  const logFile = join(g.stateDir, "logs", "gateway.log");
  const line = await until(
    () => readFileSync(logFile, "utf8").split("\n").find((l) => l.includes("collected garbage after a burst of large frames")),
    "the collection's debug record",
    10_000,
  );
  const record = JSON.parse(line) as { burstMiB: number; ms: number; rssMiB: number };
  expect(record.burstMiB).toBeGreaterThanOrEqual(64);
  expect(record.rssMiB).toBeLessThan(peak);
  // After the storm, not once per join (a pause over 0.5 s mid-storm on a slow machine may make it two).
  await Bun.sleep(700);
  expect(readFileSync(logFile, "utf8").split("collected garbage after a burst").length - 1).toBeLessThanOrEqual(2);
  await g.stop();
}, 60_000);
