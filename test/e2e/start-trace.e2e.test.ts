/** CLAWDIS_TRACE_START=1: the binary says where its start-up time and memory go (BENCHMARKS.md, 6b/6c). */
import { afterEach, expect, test } from "bun:test";
import { TestClient } from "../helpers/client.ts";
import { spawnGateway, type RunningGateway } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

let gw: RunningGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

const STEPS = ["cli.ts evaluated", "gateway modules imported", "config read", "gateway composed", "runtime adapter ready", "bound", "providers started, delivery resumed", "first hello-ok written"];

test("each start-up step once, in order, with its time and RSS; the first hello-ok last", async () => {
  gw = await spawnGateway({ config: { webchat: { enabled: false } }, env: { CLAWDIS_TRACE_START: "1" } });
  const { c } = await TestClient.connect(gw.url);
  await until(() => gw!.stderr().includes("first hello-ok written"), "the first hello-ok's trace line", 5_000);
  const lines = gw.stderr().split("\n").filter((l) => l.startsWith("start-trace "));
  const parsed = lines.map((l) => /^start-trace ([\d.]+) ms ([\d.]+) MiB (.+)$/.exec(l)!);
  expect(parsed.every(Boolean)).toBe(true);
  expect(parsed.map((m) => m[3])).toEqual(STEPS);
  const times = parsed.map((m) => Number(m[1]));
  expect(times).toEqual([...times].sort((a, b) => a - b));
  for (const m of parsed) expect(Number(m[2])).toBeGreaterThan(1);
  // A second client is not the first hello-ok.
  const { c: d } = await TestClient.connect(gw.url);
  expect(gw.stderr().split("first hello-ok written").length).toBe(2);
  c.close();
  d.close();
});

test("off by default: no trace lines", async () => {
  gw = await spawnGateway({ config: { webchat: { enabled: false } } });
  const { c } = await TestClient.connect(gw.url);
  c.close();
  expect(gw.stderr()).not.toContain("start-trace");
});
