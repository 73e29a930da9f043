/**
 * Reconnect storm: 1,000 clients connecting and dropping in a loop (30 s by default,
 * STORM_SECONDS to change). No fd or memory leak, and presence comes back to exact.
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { helloFrame, TestClient } from "../helpers/client.ts";
import { spawnGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const SECONDS = Number(process.env.STORM_SECONDS ?? 30);
const CLIENTS = 1_000;

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);
const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** One wave: CLIENTS raw sockets say hello, then all drop (half cleanly, half abruptly). */
async function wave(url: string): Promise<number> {
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.onopen = () => ws.send(JSON.stringify(helloFrame()));
        ws.onmessage = () => resolve(ws);
        ws.onerror = () => reject(new Error("connect failed"));
      }),
    ),
  );
  sockets.forEach((ws, i) => (i % 2 === 0 ? ws.close() : ((ws as unknown as { terminate?: () => void }).terminate?.() ?? ws.close(4999))));
  return sockets.length;
}

test(`reconnect storm: ${CLIENTS} clients connecting and dropping for ${SECONDS} s`, async () => {
  const g = await spawnGateway({ target, config: { gateway: { maxPendingHandshakes: 2_000, presenceCoalesceMs: 25 } } });
  const pid = g.proc.pid!;
  const { c: watcher } = await TestClient.connect(g.url);
  await wave(g.url); // warm-up: allocators and caches reach their working size
  await Bun.sleep(500);
  const rss0 = rssKiB(pid);
  const fd0 = fds(pid);
  const end = Date.now() + SECONDS * 1000;
  let connections = 0;
  while (Date.now() < end) connections += await wave(g.url);
  // Let the last closes land.
  let list: any;
  for (let i = 0; i < 50; i++) {
    await Bun.sleep(100);
    list = (await watcher.request("system-presence")).payload;
    if (list.presence.length === 2 && fds(pid) <= fd0 + 2) break;
  }
  const rss1 = rssKiB(pid);
  const fd1 = fds(pid);
  console.log(`storm: ${connections} connections in ${SECONDS} s; RSS ${rss0} → ${rss1} KiB; fds ${fd0} → ${fd1}`);
  expect(connections).toBeGreaterThanOrEqual(CLIENTS * 2);
  expect(list.presence.map((e: any) => e.mode).sort()).toEqual(["cli", "gateway"]);
  expect(fd1).toBeLessThanOrEqual(fd0 + 2);
  expect(rss1).toBeLessThan(rss0 * 1.25 + 8 * 1024);
  expect((await watcher.request("status")).payload.clients).toBe(1);
  watcher.close();
  expect(await g.stop()).toBe(0);
}, (SECONDS + 60) * 1000);
