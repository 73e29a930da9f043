/**
 * Drop-in for the runbook's own clients (the macOS app, the original WebChat page and CLI):
 * the frames they really send, replayed against the compiled binary, and the shapes they read.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { helloFrame, TestClient, type Frame } from "../helpers/client.ts";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai.ts";
import { spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const enc = new TextEncoder();

/** A client that sends every frame as binary UTF-8 JSON, like the macOS app, and records whether answers came as text. */
class BinaryClient {
  readonly frames: { text: boolean; frame: Frame }[] = [];
  readonly closed: Promise<number>;
  private readonly opened: Promise<void>;
  private waiters: (() => void)[] = [];
  readonly ws: WebSocket;

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.onopen = () => resolve();
      this.ws.onerror = () => reject(new Error(`could not open ${url}`));
    });
    this.closed = new Promise((resolve) => (this.ws.onclose = (e) => resolve(e.code)));
    this.ws.onmessage = (e) => {
      const text = typeof e.data === "string";
      const raw = text ? (e.data as string) : new TextDecoder().decode(e.data as ArrayBuffer);
      this.frames.push({ text, frame: JSON.parse(raw) });
      for (const w of this.waiters.splice(0)) w();
    };
  }

  static async open(url: string): Promise<BinaryClient> {
    const c = new BinaryClient(url);
    await c.opened;
    return c;
  }

  sendBinary(frame: unknown): void {
    this.ws.send(enc.encode(JSON.stringify(frame)));
  }

  async next(pred: (f: Frame) => boolean, timeoutMs = 5_000): Promise<{ text: boolean; frame: Frame }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find((f) => pred(f.frame));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-3)).slice(0, 400)}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }
}

/** What the macOS app sends: no caps, no instanceId, fields this gateway has never heard of. */
function runbookHello(over: Record<string, unknown> = {}): Frame {
  const { caps: _caps, ...hello } = helloFrame();
  const { instanceId: _id, ...client } = hello.client;
  return { ...hello, client: { ...client, name: "clawdis-mac", mode: "app", deviceModel: "Mac14,2" }, ...over };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

let gw: RunningGateway;
beforeAll(async () => {
  gw = await spawnGateway({ target, config: { gateway: { tickIntervalMs: 300 } }, args: ["--port", "0", "--verbose"] });
});
afterAll(async () => {
  await gw.stop();
});

describe("Binary frames: UTF-8 JSON in a binary frame is a frame like any other", () => {
  test("a binary hello and binary requests are answered, in text frames", async () => {
    const c = await BinaryClient.open(gw.url);
    c.sendBinary(runbookHello());
    const ok = await c.next((f) => f.type === "hello-ok");
    expect(ok.text).toBe(true);
    c.sendBinary({ type: "req", id: "h1", method: "health", params: { timeout: 10_000 } });
    const res = await c.next((f) => f.type === "res" && f.id === "h1");
    expect(res.text).toBe(true);
    expect(res.frame.ok).toBe(true);
    expect(res.frame.payload.ok).toBe(true);
    c.sendBinary({ type: "req", id: "p1", method: "system-presence" });
    const list = await c.next((f) => f.type === "res" && f.id === "p1");
    expect(Array.isArray(list.frame.payload)).toBe(true);
    c.ws.close();
  });

  test("binary that is not UTF-8 closes with 1007 before the hello", async () => {
    const c = await BinaryClient.open(gw.url);
    c.ws.send(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    expect(await c.closed).toBe(1007);
  });

  test("binary UTF-8 that is not JSON closes with 1007 after the hello", async () => {
    const c = await BinaryClient.open(gw.url);
    c.sendBinary(runbookHello());
    await c.next((f) => f.type === "hello-ok");
    c.ws.send(enc.encode("{not json"));
    expect(await c.closed).toBe(1007);
  });
});

describe("Tolerant hello", () => {
  test("a hello without caps and without client.instanceId is accepted; the connection gets one stable id", async () => {
    const c = await TestClient.open(gw.url);
    c.send(runbookHello({ futureField: { x: 1 } }));
    const ok = await c.next((f) => f.type === "hello-ok" || f.type === "hello-error");
    expect(ok.type).toBe("hello-ok");
    const mine = ok.snapshot.presence.filter((e: Frame) => e.mode === "app" && String(e.instanceId).startsWith("conn-"));
    expect(mine.length).toBeGreaterThanOrEqual(1);
    // The id is stable for the connection: a note lands on the same entry, not a new one.
    const posted = await c.request("system-event", { text: "hello from the mac" });
    expect(posted.ok).toBe(true);
    expect(posted.payload.entry.instanceId).toMatch(/^conn-/);
    const list = (await c.request("system-presence")).payload as Frame[];
    const entries = list.filter((e) => e.instanceId === posted.payload.entry.instanceId);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.text).toBe("hello from the mac");
    expect(entries[0]!.mode).toBe("app");
    c.close();
  });

  test("each left out on its own: no caps (instanceId kept), and caps without instanceId", async () => {
    const noCaps = await TestClient.open(gw.url);
    noCaps.send(runbookHello({ client: { ...runbookHello().client, instanceId: "mac-1" } }));
    const a = await noCaps.next((f) => f.type === "hello-ok" || f.type === "hello-error");
    expect(a.type).toBe("hello-ok");
    expect(a.snapshot.presence.some((e: Frame) => e.instanceId === "mac-1")).toBe(true);
    // No caps: the runbook's shape.
    expect(Array.isArray((await noCaps.request("system-presence")).payload)).toBe(true);
    const noId = await TestClient.open(gw.url);
    noId.send(runbookHello({ caps: ["presence-deltas"] }));
    const b = await noId.next((f) => f.type === "hello-ok" || f.type === "hello-error");
    expect(b.type).toBe("hello-ok");
    const mine = (await noId.request("system-event", { text: "id?" })).payload.entry.instanceId;
    expect(mine).toMatch(/^conn-/);
    // With the cap: the versioned list.
    expect(Array.isArray((await noId.request("system-presence")).payload.presence)).toBe(true);
    noCaps.close();
    noId.close();
  });

  test("a known hello field with a wrong type is still refused", async () => {
    const c = await TestClient.open(gw.url);
    c.send(runbookHello({ caps: "presence-deltas" }));
    const err = await c.next((f) => f.type === "hello-error");
    expect(err.reason).toBe("invalid-hello");
    expect(err.message).toContain("caps");
  });
});

describe("Forward-compatible params", () => {
  let c: TestClient;
  beforeAll(async () => {
    c = await TestClient.open(gw.url);
    c.send(runbookHello());
    await c.next((f) => f.type === "hello-ok");
  });
  afterAll(() => c.close());

  test("system-event with every presence-entry field (ip included) is accepted and shown", async () => {
    const res = await c.request("system-event", {
      text: "Node: mac-studio · app 2.1 · last input 3s ago",
      ip: "192.168.1.23",
      host: "mac-studio",
      version: "2.1.0",
      mode: "app",
      platform: "macos 15.1",
      lastInputSeconds: 3,
      reason: "periodic",
      tags: ["mac"],
      ts: Date.now(),
    });
    expect(res.ok).toBe(true);
    expect(res.payload.entry).toMatchObject({ ip: "192.168.1.23", host: "mac-studio", platform: "macos 15.1", lastInputSeconds: 3, reason: "periodic" });
  });

  test('agent with thinking:"default", to:"" and timeout:0 runs with the defaults', async () => {
    const from = c.frames.length;
    c.send({ type: "req", id: "a1", method: "agent", params: { message: "ping", thinking: "default", to: "", timeout: 0, idempotencyKey: crypto.randomUUID() } });
    const ack = await c.next((f) => f.type === "res" && f.id === "a1", 5_000, from);
    expect(ack.ok).toBe(true);
    expect(ack.payload.status).toBe("accepted");
    const final = await c.next((f) => f.type === "res" && f.id === "a1" && f.payload?.status !== "accepted", 10_000, from);
    expect(final.payload.status).toBe("ok");
    expect(final.payload.summary).toBe("ping");
    // to:"" is no destination: even with deliver:true nothing is sent (no provider is linked
    // here, so an attempt would show as delivery {ok:false, NOT_LINKED}).
    const key = crypto.randomUUID();
    const at = c.frames.length;
    c.send({ type: "req", id: "a2", method: "agent", params: { message: "pong", to: "", deliver: true, idempotencyKey: key } });
    const done = await c.next((f) => f.type === "res" && f.id === "a2" && f.payload?.status !== "accepted", 10_000, at);
    expect(done.payload.status).toBe("ok");
    expect(done.payload.delivery).toBeUndefined();
    const outbound = (await c.request("ledger.list", { direction: "outbound" })).payload.records as Frame[];
    expect(outbound.filter((r) => String(r.idempotencyKey ?? "").startsWith(key))).toEqual([]);
  });

  test("health accepts timeout; unknown fields are ignored and logged once per method and field", async () => {
    const h = await c.request("health", { timeout: 5_000, probe: true });
    expect(h.ok).toBe(true);
    const again = await c.request("health", { probe: true });
    expect(again.ok).toBe(true);
    await waitFor("the debug record", () => (gw.stdout().includes('"field":"probe"') ? true : undefined));
    const lines = gw.stdout().split("\n").filter((l) => l.includes("ignored an unknown params field") && l.includes('"field":"probe"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"method":"health"');
  });

  test("a long unknown field is remembered by its first 64 characters (the set of logged fields stays small)", async () => {
    const head = "x".repeat(64);
    // Two long names that differ only past character 64: one record, not two (nor a key of maxPayload size).
    expect((await c.request("health", { [`${head}-first-${"a".repeat(10_000)}`]: 1 })).ok).toBe(true);
    expect((await c.request("health", { [`${head}-second-${"b".repeat(10_000)}`]: 1 })).ok).toBe(true);
    // A record logged after both: once it is on stdout, so is anything the two requests logged.
    const marker = `marker${crypto.randomUUID().slice(0, 8)}`;
    expect((await c.request("health", { [marker]: 1 })).ok).toBe(true);
    await waitFor("the marker record", () => (gw.stdout().includes(`"field":"${marker}"`) ? true : undefined));
    const lines = gw.stdout().split("\n").filter((l) => l.includes("ignored an unknown params field") && l.includes(`"field":"${head}"`));
    expect(lines).toHaveLength(1);
  });

  test("known fields keep their types and bounds", async () => {
    const bad = await c.request("health", { timeout: -1 });
    expect(bad.error.code).toBe("INVALID_REQUEST");
    expect(bad.error.details.field).toBe("params.timeout");
    const thinking = await c.request("agent", { message: "x", thinking: 3, idempotencyKey: "k" });
    expect(thinking.error.details.field).toBe("params.thinking");
  });
});

describe("Presence: the runbook's shapes by default, deltas by capability", () => {
  test("system-presence is the bare list for a caps-less client, {presence, stateVersion} with presence-deltas", async () => {
    const { c: plain } = await TestClient.connect(gw.url, { caps: [] });
    const { c: deltas } = await TestClient.connect(gw.url, { caps: ["presence-deltas"] });
    const a = (await plain.request("system-presence")).payload;
    const b = (await deltas.request("system-presence")).payload;
    expect(Array.isArray(a)).toBe(true);
    expect(a.some((e: Frame) => e.mode === "gateway")).toBe(true);
    expect(Array.isArray(b.presence)).toBe(true);
    expect(typeof b.stateVersion.presence).toBe("number");
    plain.close();
    deltas.close();
  });

  test("side by side, live and after a resume, each client gets its own shape with the same stateVersion and cursor", async () => {
    const { c: plain } = await TestClient.connect(gw.url, { caps: [] });
    const { c: deltas } = await TestClient.connect(gw.url, { caps: ["presence-deltas"] });
    const joinerId = `joiner-${crypto.randomUUID()}`;
    const { c: joiner } = await TestClient.connect(gw.url, { client: { ...helloFrame().client, instanceId: joinerId } });
    const isJoin = (f: Frame) => f.event === "presence";
    const full = await plain.next((f) => isJoin(f) && f.payload.presence?.some((e: Frame) => e.instanceId === joinerId));
    const delta = await deltas.next((f) => isJoin(f) && f.payload.upserted?.some((e: Frame) => e.instanceId === joinerId));
    expect(full.payload.upserted).toBeUndefined();
    expect(delta.payload.presence).toBeUndefined();
    expect(full.payload.presence.some((e: Frame) => e.mode === "gateway")).toBe(true);
    expect(full.stateVersion).toEqual(delta.stateVersion);
    expect(full.cursor).toBe(delta.cursor);
    expect(full.seq).toBeGreaterThanOrEqual(1);
    expect(delta.seq).toBeGreaterThanOrEqual(1);

    // Both go away; the joiner leaves while they are gone; both come back resuming.
    const cursorPlain = plain.events("presence").at(-1)!.cursor;
    const cursorDeltas = deltas.events("presence").at(-1)!.cursor;
    plain.close();
    deltas.close();
    await Promise.all([plain.closed, deltas.closed]);
    joiner.close();
    const watcher = (await TestClient.connect(gw.url)).c;
    await watcher.next((f) => isJoin(f) && f.payload.removed?.some((e: Frame) => e.instanceId === joinerId));
    watcher.close();
    const { c: plain2, ok: ok1 } = await TestClient.connect(gw.url, { caps: [], resume: { cursor: cursorPlain } });
    const { c: deltas2, ok: ok2 } = await TestClient.connect(gw.url, { caps: ["presence-deltas"], resume: { cursor: cursorDeltas } });
    expect(ok1.resume.ok).toBe(true);
    expect(ok2.resume.ok).toBe(true);
    // Each replay is its own shape: every delta for the delta reader; for the full-list reader
    // the newest list only (it supersedes the ones before), at the same cursor and version.
    const replay = async (c: TestClient, n: number) => {
      await c.next((f) => f.type === "event" && f.seq === n);
      return c.frames.filter((f) => f.type === "event" && f.seq <= n && f.event === "presence");
    };
    const fullReplay = await replay(plain2, ok1.resume.replayed);
    const deltaReplay = await replay(deltas2, ok2.resume.replayed);
    expect(fullReplay.length).toBeGreaterThanOrEqual(1);
    expect(fullReplay.every((f) => Array.isArray(f.payload.presence) && f.payload.upserted === undefined)).toBe(true);
    expect(deltaReplay.every((f) => Array.isArray(f.payload.upserted) && f.payload.presence === undefined)).toBe(true);
    expect(deltaReplay.some((f) => f.payload.removed.some((e: Frame) => e.instanceId === joinerId))).toBe(true);
    const newestFull = fullReplay.at(-1)!;
    expect(newestFull.payload.presence.some((e: Frame) => e.instanceId === joinerId)).toBe(false);
    // The delta reader resumed a moment later (it may also have the full reader's own join):
    // the same event is in its replay, with the same cursor and version.
    const same = deltaReplay.find((f) => f.cursor === newestFull.cursor);
    expect(same).toBeDefined();
    expect(newestFull.stateVersion).toEqual(same!.stateVersion);
    plain2.close();
    deltas2.close();
  });
});

describe("Health for old readers", () => {
  test("every field, plus durationMs, heartbeatSeconds, sessions and web.authAgeMs (null when not linked)", async () => {
    const { c } = await TestClient.connect(gw.url, { caps: [] });
    const run = await c.request("agent", { message: "remember me", sessionId: "dropin-session", idempotencyKey: crypto.randomUUID() });
    expect(run.ok).toBe(true);
    await c.next((f) => f.type === "res" && f.payload?.status === "ok");
    // The session store summary is refreshed on the tick (0.3 s here), off the request path.
    const health = await waitFor("the session in health", async () => {
      const h = (await c.request("health")).payload;
      return h.sessions.recent.some((r: Frame) => r.key === "dropin-session") ? h : undefined;
    });
    for (const key of ["ok", "ts", "uptimeMs", "web", "telegram", "agent"]) expect(health).toHaveProperty(key);
    expect(health.durationMs).toBeGreaterThanOrEqual(0);
    expect(health.heartbeatSeconds).toBe(0.3);
    expect(health.sessions.path).toBe(`${gw.stateDir}/sessions`);
    expect(health.sessions.count).toBeGreaterThanOrEqual(1);
    expect(health.sessions.recent.length).toBeLessThanOrEqual(10);
    const recent = health.sessions.recent.find((r: Frame) => r.key === "dropin-session");
    expect(recent.updatedAt).toBeLessThanOrEqual(health.ts);
    expect(recent.age).toBeGreaterThanOrEqual(0);
    expect(health.web.authAgeMs).toBeNull();
    expect(health.web.linked).toBe(false);
    c.close();
  });
});

describe("agent.thinking reaches the backends", () => {
  let fake: FakeOpenAi;
  let g: RunningGateway;
  beforeAll(async () => {
    fake = startFakeOpenAi();
    g = await spawnGateway({ target, config: { agent: { backend: "openai", openai: { baseUrl: fake.url, model: "good" } } } });
  });
  afterAll(async () => {
    await g.stop();
    fake.stop();
  });

  test('openai gets reasoning_effort for "low", and none for "default" or "off"', async () => {
    const { c } = await TestClient.connect(g.url, { caps: [] });
    for (const thinking of ["low", "default", "off"]) {
      const from = c.frames.length;
      c.send({ type: "req", id: `t-${thinking}`, method: "agent", params: { message: `think ${thinking}`, thinking, idempotencyKey: crypto.randomUUID() } });
      const final = await c.next((f) => f.type === "res" && f.id === `t-${thinking}` && f.payload?.status !== "accepted", 10_000, from);
      expect(final.payload.status).toBe("ok");
    }
    const effort = (t: string) => fake.requests.find((r) => r.body.messages.at(-1).content === `think ${t}`)!.body;
    expect(effort("low").reasoning_effort).toBe("low");
    expect("reasoning_effort" in effort("default")).toBe(false);
    expect("reasoning_effort" in effort("off")).toBe(false);
    c.close();
  });

  test("the command backend fills {{thinking}}", async () => {
    const cg = await spawnGateway({ target, config: { agent: { backend: "command", command: ["/bin/echo", "thinking={{thinking}}"] } } });
    const { c } = await TestClient.connect(cg.url);
    const from = c.frames.length;
    c.send({ type: "req", id: "cmd", method: "agent", params: { message: "x", thinking: "high", idempotencyKey: crypto.randomUUID() } });
    const final = await c.next((f) => f.type === "res" && f.id === "cmd" && f.payload?.status !== "accepted", 10_000, from);
    expect(final.payload.summary).toBe("thinking=high");
    c.close();
    await cg.stop();
  });
});
