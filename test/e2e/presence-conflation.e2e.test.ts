/**
 * Full presence lists are state: a reader of the runbook's shape gets the newest list,
 * not every one that was superseded while it could not take it; a delta reader still
 * gets every change (issue 25). Through the compiled binary.
 */
import { afterAll, expect, test } from "bun:test";
import { helloFrame, TestClient, type Frame } from "../helpers/client.ts";
import { spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { rawUpgrade, serverTexts } from "../helpers/raw.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const JOINS = 60;
let g: RunningGateway | undefined;
const clients: TestClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await g?.stop();
});

test("a paused full-list reader ends on the newest list after fewer lists than changes; a delta reader sees every change", async () => {
  // coalesceMs 0: every join is its own presence change, broadcast at once.
  g = await spawnGateway({ target, config: { gateway: { presenceCoalesceMs: 0 }, webchat: { enabled: false } } });
  const { c: deltas } = await TestClient.connect(g.url);
  clients.push(deltas);

  // The runbook reader: a raw socket that says hello without caps, then stops reading.
  const slow = await rawUpgrade(g.port);
  let buf = Buffer.alloc(0);
  const texts: string[] = [];
  slow.sock.on("data", (d: Buffer) => {
    const split = serverTexts(Buffer.concat([buf, d]));
    buf = Buffer.from(split.rest);
    texts.push(...split.texts);
  });
  slow.sendText(JSON.stringify(helloFrame({ caps: [] })));
  await until(() => texts.some((t) => t.startsWith('{"type":"hello-ok"')), "the paused reader's hello-ok", 5_000);
  slow.sock.pause();

  const ids: string[] = [];
  for (let i = 0; i < JOINS; i++) {
    const id = `joiner-${i}`;
    ids.push(id);
    const { c } = await TestClient.connect(g.url, { client: { ...helloFrame().client, instanceId: id } });
    clients.push(c);
  }

  // The delta reader saw each join as its own change.
  const upserted = () => new Set(deltas.events("presence").flatMap((e: Frame) => e.payload.upserted.map((x: Frame) => x.instanceId)));
  await until(() => ids.every((id) => upserted().has(id)), "every join as a delta", 10_000);
  expect(deltas.events("presence").length).toBeGreaterThanOrEqual(JOINS);

  slow.sock.resume();
  const lists = () => texts.map((t) => JSON.parse(t) as Frame).filter((f) => f.type === "event" && f.event === "presence");
  const complete = (f: Frame | undefined) => !!f && ids.every((id) => f.payload.presence.some((e: Frame) => e.instanceId === id));
  await until(() => complete(lists().at(-1)), "the paused reader's newest list", 10_000);
  const got = lists();
  expect(got.length).toBeGreaterThan(0);
  expect(got.length).toBeLessThan(JOINS);
  // Each list is the runbook's full shape, versions only go up, and seq has no gap.
  const all = texts.map((t) => JSON.parse(t) as Frame).filter((f) => f.type === "event" && typeof f.seq === "number");
  all.forEach((f, i) => expect(f.seq).toBe(all[0]!.seq + i));
  const versions = got.map((f) => f.stateVersion.presence as number);
  expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  expect(new Set(versions).size).toBe(versions.length);
  slow.close();
});
