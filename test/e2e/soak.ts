/**
 * Soak (npm run soak; not part of npm test): 200 clients doing mixed requests and agent
 * runs against the compiled binary for SOAK_SECONDS (default 600). Passes when no
 * request got an error response and RSS at the end is within 10% of RSS after warm-up.
 */
import { readFileSync } from "node:fs";
import { TestClient } from "../helpers/client.ts";
import { spawnGateway } from "../helpers/gateway.ts";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 200);
const WARMUP_MS = Math.min(60_000, SECONDS * 100);
const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

const g = await spawnGateway({ config: { gateway: { tickIntervalMs: 5_000 } } });
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

const running = clients.map((c, i) => worker(c, i));
await Bun.sleep(WARMUP_MS);
const rssWarm = rssKiB(pid);
const samples: number[] = [];
const sampler = setInterval(() => samples.push(rssKiB(pid)), 5_000);
await Bun.sleep(SECONDS * 1000 - WARMUP_MS);
stop = true;
await Promise.all(running);
clearInterval(sampler);
const rssEnd = rssKiB(pid);
for (const c of clients) c.close();
await g.stop();

const drift = (rssEnd - rssWarm) / rssWarm;
console.log(
  `soak: ${CLIENTS} clients, ${SECONDS} s, ${requests} requests (${Math.round(requests / SECONDS)}/s), ${errors} errors; ` +
    `RSS after warm-up ${rssWarm} KiB, at end ${rssEnd} KiB (${(drift * 100).toFixed(1)}%), max ${Math.max(...samples, rssEnd)} KiB`,
);
if (errors > 0) console.log("first errors:", JSON.stringify(firstErrors));
const ok = errors === 0 && drift <= 0.1;
console.log(ok ? "soak: PASS" : "soak: FAIL");
process.exit(ok ? 0 : 1);
