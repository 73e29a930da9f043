/** The status-push coalescer: at once for the first call, then at most once per window. */
import { expect, test } from "bun:test";
import { coalesce } from "../../src/providers/coalesce.ts";

test("a burst runs once at once and once at the end of the window; a later call runs at once again", async () => {
  const runs: number[] = [];
  const start = Date.now();
  const push = coalesce(() => runs.push(Date.now() - start), 200);
  for (let i = 0; i < 50; i++) push();
  expect(runs.length).toBe(1);
  await Bun.sleep(300);
  expect(runs.length).toBe(2);
  expect(runs[1]!).toBeGreaterThanOrEqual(190);
  await Bun.sleep(250);
  push();
  expect(runs.length).toBe(3);
  push.cancel();
});

test("cancel drops a pending trailing run", async () => {
  let n = 0;
  const push = coalesce(() => n++, 100);
  push();
  push();
  push.cancel();
  await Bun.sleep(150);
  expect(n).toBe(1);
});
