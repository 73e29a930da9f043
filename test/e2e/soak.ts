/**
 * Soak (npm run soak; not part of npm test): 200 clients doing mixed requests and agent
 * runs against the compiled binary for SOAK_SECONDS (default 600). RSS is sampled every
 * SOAK_SAMPLE_MS (2 s) over the whole run. Passes when no request got an error response
 * and the second half's RSS does not climb (soak-judge.ts: slope > 1 MiB/min and > 5% of
 * the plateau over that half is a leak; runs under 8 min are not judged on memory: their
 * second half is still warm-up); reports the plateau's mean and max.
 * SOAK_MIN_MINUTES lowers that bound for a light short run (few clients warm up fast).
 * SOAK_LEAK=1 makes the gateway leak on purpose: it runs from source with test/e2e/soak-leak.ts
 * preloaded, which keeps 64 KiB more every second (SOAK_LEAK_KIB_PER_S); the judge must then say FAIL.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { spawnGateway } from "../helpers/gateway.ts";
import { judgeMemory, type RssSample } from "./soak-judge.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 200);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 2_000);
const LEAK = process.env.SOAK_LEAK === "1";
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

const g = await spawnGateway({ config: { gateway: { tickIntervalMs: 5_000 } }, ...(LEAK ? { preload: join(import.meta.dir, "soak-leak.ts") } : {}) });
const pid = g.proc.pid!;
const clients = await Promise.all(Array.from({ length: CLIENTS }, async () => (await TestClient.connect(g.url)).c));
let requests = 0;
let errors = 0;
const firstErrors: unknown[] = [];
let stop = false;

async function worker(c: TestClient, i: number): Promise<void> {
  while (!stop) {
    const roll = Math.random();
    let res;
    if (roll < 0.05) {
      const id = `a-${i}-${requests}`;
      const from = c.frames.length;
      c.send({ type: "req", id, method: "agent", params: { message: `soak run ${i}`, idempotencyKey: crypto.randomUUID() } });
      await c.next((f) => f.type === "res" && f.id === id, 30_000, from);
      res = await c.next((f) => f.type === "res" && f.id === id && f.payload?.status !== "accepted", 30_000, from);
    } else if (roll < 0.15) res = await c.request("system-event", { text: `note ${i}` });
    else if (roll < 0.5) res = await c.request("status");
    else if (roll < 0.8) res = await c.request("health");
    else res = await c.request("system-presence");
    requests += 1;
    if (!res.ok) {
      errors += 1;
      if (firstErrors.length < 5) firstErrors.push(res.error);
    }
    // Frames are kept by TestClient for assertions; a soak must not grow on our side.
    c.frames.length = 0;
    await Bun.sleep(20 + Math.random() * 30);
  }
}

const t0 = Date.now();
const samples: RssSample[] = [{ tMs: 0, rssKiB: rssKiB(pid) }];
const sampler = setInterval(() => samples.push({ tMs: Date.now() - t0, rssKiB: rssKiB(pid) }), SAMPLE_MS);
const running = clients.map((c, i) => worker(c, i));
await Bun.sleep(SECONDS * 1000);
stop = true;
await Promise.all(running);
clearInterval(sampler);
samples.push({ tMs: Date.now() - t0, rssKiB: rssKiB(pid) });
for (const c of clients) c.close();
await g.stop();

const mem = judgeMemory(samples, process.env.SOAK_MIN_MINUTES ? { minMinutes: Number(process.env.SOAK_MIN_MINUTES) } : {});
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
console.log(
  `soak: ${CLIENTS} clients${LEAK ? " (SOAK_LEAK: the gateway from source, leaking on purpose)" : ""}, ${SECONDS} s, ${requests} requests (${Math.round(requests / SECONDS)}/s), ${errors} errors; ` +
    `RSS ${mib(samples[0]!.rssKiB)} at start, max ${mib(Math.max(...samples.map((s) => s.rssKiB)))}; ` +
    `plateau (second half, ${mem.samples} samples) mean ${mem.plateauMeanMiB.toFixed(0)} MiB, max ${mem.plateauMaxMiB.toFixed(0)} MiB; ${mem.reason}`,
);
if (errors > 0) console.log("first errors:", JSON.stringify(firstErrors));
const ok = errors === 0 && mem.ok;
console.log(ok ? `soak: PASS${mem.judged ? "" : " (errors only; memory not judged)"}` : "soak: FAIL");
process.exit(ok ? 0 : 1);
