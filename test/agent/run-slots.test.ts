import { expect, test } from "bun:test";
import { RunSlots } from "../../src/agent/run-slots.ts";

test("a raised limit (config reload) starts the run that was waiting, in arrival order", async () => {
  const slots = new RunSlots(1);
  const started: string[] = [];
  const signal = new AbortController().signal;
  await slots.acquire(signal);
  started.push("a");
  const b = slots.acquire(signal).then(() => started.push("b"));
  const c = slots.acquire(signal).then(() => started.push("c"));
  await Bun.sleep(10);
  expect(started).toEqual(["a"]);
  slots.setMax(2);
  await Bun.sleep(10);
  expect(started).toEqual(["a", "b"]);
  slots.release();
  await Promise.all([b, c]);
  expect(started).toEqual(["a", "b", "c"]);
});
