/**
 * The runbook, rule by rule, against a real gateway process over real sockets — one suite
 * run on every runtime (entries in test/e2e/runtimes/).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, spawnGateway, tempStateDir, type RunningGateway } from "../../helpers/gateway.ts";
import { runtimeOf, type Target } from "./runtime.ts";
import { helloFrame, TestClient } from "../../helpers/client.ts";
import { rawUpgrade } from "../../helpers/raw.ts";
import { seenFrameTypes } from "../../helpers/schema.ts";
import * as v from "valibot";
import { StatusSchema } from "../../../src/protocol/index.ts";

const TOKEN = "e2e-s3cret-Token-value";
const CONFIG = {
  gateway: {
    token: TOKEN,
    tickIntervalMs: 300,
    handshakeTimeoutMs: 600,
    maxPayload: 65_536,
    maxBufferedBytes: 256 * 1024,
    allowedOrigins: ["http://allowed.example"],
    presenceCoalesceMs: 10,
  },
};
const auth = { auth: { token: TOKEN } };

/** Run the gateway suite against a gateway started on `target`. */
export function gatewaySuite(target: Target): void {
  describe(`gateway on ${target}`, () => {
    let gw: RunningGateway;
    /** A well-behaved client connected for the whole file: it must keep being served. */
    let bystander: TestClient;

    beforeAll(async () => {
      gw = await spawnGateway({ target, config: CONFIG, args: ["--port", "0", "--verbose"] });
      bystander = (await TestClient.connect(gw.url, auth)).c;
    });

    afterAll(async () => {
      bystander?.close();
      await gw?.stop();
    });

    async function expectStillServing() {
      const res = await bystander.request("health");
      expect(res.ok).toBe(true);
    }

    describe("Protocol: mandatory hello → hello-ok", () => {
      test("hello-ok carries protocol, server, features, snapshot and the configured policy", async () => {
        const { c, ok } = await TestClient.connect(gw.url, auth);
        expect(ok.protocol).toBe(1);
        expect(ok.server.host.length).toBeGreaterThan(0);
        expect(ok.server.connId.length).toBeGreaterThan(0);
        expect(ok.server.version).toBe(JSON.parse(readFileSync(join(import.meta.dir, "../../../package.json"), "utf8")).version);
        expect(ok.features.methods).toEqual(
          expect.arrayContaining(["health", "status", "system-presence", "system-event", "send", "agent"]),
        );
        expect(ok.features.events).toEqual(expect.arrayContaining(["agent", "presence", "tick", "shutdown"]));
        expect(ok.policy).toEqual({ maxPayload: 65_536, maxBufferedBytes: 256 * 1024, tickIntervalMs: 300 });
        expect(ok.snapshot.health.ok).toBe(true);
        expect(ok.snapshot.stateVersion.presence).toBeGreaterThan(0);
        expect(ok.snapshot.uptimeMs).toBeGreaterThanOrEqual(0);
        const modes = ok.snapshot.presence.map((p: any) => p.mode);
        expect(modes).toContain("gateway");
        c.close();
      });

      test("a missing token is refused with hello-error unauthorized, then close 4001", async () => {
        const c = await TestClient.open(gw.url);
        c.send(helloFrame());
        const err = await c.next((f) => f.type === "hello-error");
        expect(err.reason).toBe("unauthorized");
        expect(err.message).toContain("token required");
        expect((await c.closed).code).toBe(4001);
      });

      test("a wrong token is refused, and the message never echoes a token", async () => {
        const c = await TestClient.open(gw.url);
        c.send(helloFrame({ auth: { token: "guess-1234" } }));
        const err = await c.next((f) => f.type === "hello-error");
        expect(err.reason).toBe("unauthorized");
        expect(JSON.stringify(err)).not.toContain("guess-1234");
        expect(JSON.stringify(err)).not.toContain(TOKEN);
        expect((await c.closed).code).toBe(4001);
      });

      test("no common protocol version: hello-error with the supported range, close 4002", async () => {
        const c = await TestClient.open(gw.url);
        c.send(helloFrame({ ...auth, minProtocol: 2, maxProtocol: 3 }));
        const err = await c.next((f) => f.type === "hello-error");
        expect(err.reason).toBe("protocol-mismatch");
        expect(err.supported).toEqual({ minProtocol: 1, maxProtocol: 1 });
        expect((await c.closed).code).toBe(4002);
      });

      test("an invalid hello names the failing field, close 4003", async () => {
        const c = await TestClient.open(gw.url);
        const hello = helloFrame(auth);
        delete hello.client.name;
        c.send(hello);
        const err = await c.next((f) => f.type === "hello-error");
        expect(err.reason).toBe("invalid-hello");
        expect(err.message).toContain("client.name");
        expect((await c.closed).code).toBe(4003);
      });

      test("a non-hello first frame closes the socket with 1002", async () => {
        const c = await TestClient.open(gw.url);
        c.send({ type: "req", id: "1", method: "health" });
        expect((await c.closed).code).toBe(1002);
        expect(c.frames).toEqual([]);
      });

      test("malformed JSON before hello closes with 1007", async () => {
        const c = await TestClient.open(gw.url);
        c.send("{not json");
        expect((await c.closed).code).toBe(1007);
      });

      test("malformed JSON after hello closes with 1007", async () => {
        const { c } = await TestClient.connect(gw.url, auth);
        c.send("[1,");
        expect((await c.closed).code).toBe(1007);
      });

      test("no hello within handshakeTimeoutMs closes with 4000", async () => {
        const c = await TestClient.open(gw.url);
        const started = Date.now();
        const closed = await c.closed;
        expect(closed.code).toBe(4000);
        expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      });

      test("a frame over maxPayload closes with 1009", async () => {
        const { c } = await TestClient.connect(gw.url, auth);
        c.send({ type: "req", id: "big", method: "health", params: { pad: "x".repeat(70_000) } });
        expect((await c.closed).code).toBe(1009);
      });

      test("a binary frame that is not UTF-8 JSON closes with 1007 (binary JSON is read: test/e2e/dropin)", async () => {
        const { c } = await TestClient.connect(gw.url, auth);
        c.ws.send(new Uint8Array([1, 2, 3]));
        expect((await c.closed).code).toBe(1007);
      });

      test("a second hello on an open connection closes with 1002", async () => {
        const { c } = await TestClient.connect(gw.url, auth);
        c.send(helloFrame(auth));
        expect((await c.closed).code).toBe(1002);
      });

      test("a browser Origin not in allowedOrigins is refused at the upgrade (403)", async () => {
        const refused = await rawUpgrade(gw.port, { Origin: "http://evil.example" });
        expect(refused.head).toStartWith("HTTP/1.1 403");
        refused.close();
        const allowed = await rawUpgrade(gw.port, { Origin: "http://allowed.example" });
        expect(allowed.head).toStartWith("HTTP/1.1 101");
        allowed.close();
      });

      test("the daemon kept serving its well-behaved client through all of the above", async () => {
        await expectStillServing();
      });
    });

    describe("Requests: req → res", () => {
      let c: TestClient;
      beforeAll(async () => {
        c = (await TestClient.connect(gw.url, auth)).c;
      });
      afterAll(() => c.close());

      test("an unknown method gets INVALID_REQUEST naming the field; the connection stays open", async () => {
        const res = await c.request("reboot-the-world");
        expect(res.ok).toBe(false);
        expect(res.error.code).toBe("INVALID_REQUEST");
        expect(res.error.details.field).toBe("method");
        expect((await c.request("health")).ok).toBe(true);
      });

      test("bad params get INVALID_REQUEST with details naming the failing field", async () => {
        const res = await c.request("system-event", { text: 5 });
        expect(res.error.code).toBe("INVALID_REQUEST");
        expect(res.error.details.field).toBe("params.text");
        expect(res.error.message).toContain("expected string");
        // Unknown fields are ignored (forward-compatible params); known ones keep their types.
        const extra = await c.request("health", { verbose: true });
        expect(extra.ok).toBe(true);
        const badKnown = await c.request("health", { timeout: "soon" });
        expect(badKnown.error.details.field).toBe("params.timeout");
        const missing = await c.request("agent", { message: "hi" });
        expect(missing.error.details.field).toBe("params.idempotencyKey");
      });

      test("a req with a bad envelope but a usable id is answered, not dropped", async () => {
        const from = c.frames.length;
        c.send({ type: "req", id: "env-1", method: 42 });
        const res = await c.next((f) => f.type === "res" && f.id === "env-1", 5_000, from);
        expect(res.error.code).toBe("INVALID_REQUEST");
        expect(res.error.details.field).toBe("method");
      });

      test("a req without an id cannot be answered: close 1002", async () => {
        const { c: other } = await TestClient.connect(gw.url, auth);
        other.send({ type: "req", method: "health" });
        expect((await other.closed).code).toBe(1002);
      });

      test("health: ok, web, telegram and agent backend", async () => {
        const res = await c.request("health");
        expect(res.payload).toMatchObject({
          ok: true,
          web: { linked: false, connected: false },
          telegram: { configured: false },
          agent: { backend: "echo" },
        });
        expect(typeof res.payload.ts).toBe("number");
      });

      test("status: version, uptime, linked providers, connected clients", async () => {
        const res = await c.request("status");
        // status writes its JSON from pieces: the wire must still be StatusSchema's shape.
        expect(v.safeParse(StatusSchema, res.payload).issues).toBeUndefined();
        expect(res.payload.version).toBe(gwVersion());
        expect(res.payload.linked).toEqual([]);
        expect(res.payload.clients).toBeGreaterThanOrEqual(2);
        expect(res.payload.agent.backend).toBe("echo");
      });

      test("send answers NOT_LINKED while no provider is linked", async () => {
        const res = await c.request("send", { to: "+15551234567", message: "hi", idempotencyKey: crypto.randomUUID() });
        expect(res.ok).toBe(false);
        expect(res.error.code).toBe("NOT_LINKED");
        expect(res.error.message).toContain("clawdis login");
      });

      // The ack is the run's first frame on every runtime, however slow the idempotency
      // write: the run is held until the ack went out (src/runs/service.ts, issue 15).
      test("agent is two-stage: ack, streamed agent events, final res with the same id", async () => {
        const message = "the quick brown fox jumps over the lazy dog";
        const from = c.frames.length;
        c.send({ type: "req", id: "run-1", method: "agent", params: { message, idempotencyKey: "k-run-1" } });
        const final = await c.next((f) => f.type === "res" && f.id === "run-1" && f.payload?.status !== "accepted", 5_000, from);
        const mine = c.frames.slice(from);
        const ack = mine.find((f) => f.type === "res" && f.id === "run-1")!;
        expect(ack.payload.status).toBe("accepted");
        const runId = ack.payload.runId;
        expect(final.payload).toEqual({ runId, status: "ok", summary: message });
        const events = mine.filter((f) => f.type === "event" && f.event === "agent" && f.payload.runId === runId);
        // The ack comes before any event of the run, and the final after all of them.
        expect(mine.indexOf(ack)).toBeLessThan(mine.indexOf(events[0]!));
        expect(mine.indexOf(final)).toBeGreaterThan(mine.indexOf(events.at(-1)!));
        expect(events.map((e) => e.payload.seq)).toEqual(events.map((_, i) => i + 1));
        const text = events.filter((e) => e.payload.stream === "assistant").map((e) => e.payload.data.delta).join("");
        expect(text).toBe(message);
        expect(events.filter((e) => e.payload.stream === "assistant").length).toBeGreaterThan(1);
      });

      test("agent: a repeated idempotencyKey returns the first runId and does not run again", async () => {
        const key = `k-${crypto.randomUUID()}`;
        const first = await agentRun(c, "do it once", key);
        const second = await agentRun(c, "do it once", key);
        expect(second.runId).toBe(first.runId);
        expect(second.final).toEqual(first.final);
        await Bun.sleep(50);
        const starts = c
          .events("agent")
          .filter((e) => e.payload.runId === first.runId && e.payload.stream === "lifecycle" && e.payload.data.phase === "start");
        expect(starts.length).toBe(1);
      });

      test("agent events reach every connected client, not only the caller", async () => {
        const { runId } = await agentRun(c, "for everyone", `k-${crypto.randomUUID()}`);
        await bystander.next((f) => f.type === "event" && f.event === "agent" && f.payload.runId === runId && f.payload.data?.phase === "end");
      });
    });

    describe("Events: per-connection seq, presence, tick", () => {
      test("every seq-carrying event on a connection is numbered 1, 2, 3… with no gaps", async () => {
        const { c } = await TestClient.connect(gw.url, auth);
        await agentRun(c, "count me in please", `k-${crypto.randomUUID()}`);
        const { c: other } = await TestClient.connect(gw.url, auth);
        other.close();
        await c.next((f) => f.type === "event" && f.event === "presence" && f.payload.removed.length > 0);
        const seqs = c.frames.filter((f) => f.type === "event" && f.seq !== undefined).map((f) => f.seq);
        expect(seqs.length).toBeGreaterThan(5);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        c.close();
      });

      test("presence: a client joining and leaving is pushed to others with stateVersion", async () => {
        const { c: a } = await TestClient.connect(gw.url, auth);
        const instanceId = `b-${crypto.randomUUID()}`;
        const { c: b, ok } = await TestClient.connect(gw.url, {
          ...auth,
          client: { name: "mac", version: "2.0.0", platform: "darwin", mode: "app", instanceId, host: "studio.local" },
        });
        const joined = await a.next((f) => f.event === "presence" && f.payload.upserted.some((e: any) => e.instanceId === instanceId));
        const entry = joined.payload.upserted.find((e: any) => e.instanceId === instanceId);
        expect(entry).toMatchObject({ host: "studio.local", mode: "app", version: "2.0.0", ip: "127.0.0.1" });
        expect(joined.stateVersion.presence).toBeGreaterThanOrEqual(ok.snapshot.stateVersion.presence);
        b.close();
        const left = await a.next((f) => f.event === "presence" && f.payload.removed.some((e: any) => e.instanceId === instanceId));
        expect(left.payload.removed[0].reason).toBe("disconnect");
        expect(left.stateVersion.presence).toBeGreaterThan(joined.stateVersion.presence);
        const list = await a.request("system-presence");
        expect(list.payload.presence.some((e: any) => e.instanceId === instanceId)).toBe(false);
        a.close();
      });

      test("system-presence lists the gateway's own entry and every connected client", async () => {
        const { c, ok } = await TestClient.connect(gw.url, auth);
        const res = await c.request("system-presence");
        const gateway = res.payload.presence.find((e: any) => e.mode === "gateway");
        expect(gateway).toMatchObject({ host: ok.server.host, version: gwVersion() });
        expect(typeof gateway.ip).toBe("string");
        const me = res.payload.presence.find((e: any) => e.mode === "cli" && e.ip === "127.0.0.1");
        expect(me).toBeDefined();
        c.close();
      });

      test("system-event posts a structured note pushed to all clients as a presence event", async () => {
        const { c } = await TestClient.connect(gw.url, auth);
        const tag = `tag-${crypto.randomUUID().slice(0, 8)}`;
        const res = await c.request("system-event", { text: "build finished", tags: [tag], lastInputSeconds: 12 });
        expect(res.ok).toBe(true);
        expect(res.payload.entry).toMatchObject({ text: "build finished", tags: [tag], lastInputSeconds: 12 });
        const pushed = await bystander.next(
          (f) => f.event === "presence" && f.payload.upserted.some((e: any) => e.tags?.includes(tag)),
        );
        expect(pushed.stateVersion).toBeDefined();
        c.close();
      });

      test("tick arrives every tickIntervalMs with {ts} and carries no seq", async () => {
        const { c } = await TestClient.connect(gw.url, auth);
        const t1 = await c.next((f) => f.event === "tick", 2_000);
        const t2 = await c.next((f) => f.event === "tick" && f !== t1, 2_000);
        expect(typeof t1.payload.ts).toBe("number");
        expect(t2.payload.ts - t1.payload.ts).toBeGreaterThanOrEqual(200);
        expect(t1.seq).toBeUndefined();
        c.close();
      });
    });

    describe("Backpressure: a slow consumer is closed and never slows the others", () => {
      test("a client that stops reading is dropped at maxBufferedBytes while others get everything", async () => {
        const raw = await rawUpgrade(gw.port);
        const instanceId = `slow-${crypto.randomUUID()}`;
        raw.sendText(JSON.stringify(helloFrame({ ...auth, client: { ...helloFrame().client, instanceId } })));
        const { c } = await TestClient.connect(gw.url, auth);
        for (let i = 0; i < 100; i++) {
          const list = await c.request("system-presence");
          if (list.payload.presence.some((e: any) => e.instanceId === instanceId)) break;
          await Bun.sleep(20);
        }
        raw.sock.pause(); // stop reading: the kernel buffers fill, then the gateway's
        const big = "y".repeat(60_000);
        let runs = 0;
        let stillThere = true;
        // Each run streams ~60 KB to every client; the well-behaved one reads it all.
        while (stillThere && runs < 600) {
          const { final } = await agentRun(c, big, `slow-${runs}-${crypto.randomUUID()}`);
          expect(final.summary.length).toBe(big.length);
          runs += 1;
          if (runs % 20 === 0) {
            const list = await c.request("system-presence");
            stillThere = list.payload.presence.some((e: any) => e.instanceId === instanceId);
          }
        }
        expect(stillThere).toBe(false);
        const gone = await c.next((f) => f.event === "presence" && f.payload.removed.some((e: any) => e.instanceId === instanceId));
        expect(gone.payload.removed.find((e: any) => e.instanceId === instanceId).reason).toBe("slow-consumer");
        raw.close();
        await expectStillServing();
      }, 30_000);
    });

    describe("JSON Schema: every frame the server emitted in this file matched it", () => {
      test("hello-ok, hello-error, res and event frames were all seen and validated", () => {
        for (const type of ["hello-ok", "hello-error", "res", "event"]) expect(seenFrameTypes.get(type) ?? 0).toBeGreaterThan(0);
      });
    });

    describe("Shutdown: SIGTERM/SIGINT emit shutdown, close clients, exit 0 within 5 s", () => {
      for (const signal of ["SIGTERM", "SIGINT"] as const) {
        test(`${signal}`, async () => {
          const g = await spawnGateway({ target });
          const { c } = await TestClient.connect(g.url);
          const started = Date.now();
          g.proc.kill(signal);
          const ev = await c.next((f) => f.event === "shutdown");
          expect(ev.payload.reason).toBe(signal);
          expect(typeof ev.seq).toBe("number");
          expect((await c.closed).code).toBe(1001);
          expect(await g.exited).toBe(0);
          expect(Date.now() - started).toBeLessThan(5_000);
        });
      }
    });

    describe("Operations: flags, logs, lock, port", () => {
      test(`the gateway reports the runtime it runs on (${runtimeOf(target)})`, () => {
        expect(gw.stdout()).toContain(`"runtime":"${runtimeOf(target)}"`);
      });

      test("--version prints the version and the git commit baked in at build time", async () => {
        const { code, stdout } = await runCli(["--version"], { target });
        expect(code).toBe(0);
        const expected = target === "deno" || target === "source" ? "source" : /[0-9a-f]{12}/;
        expect(stdout).toContain(gwVersion());
        expect(stdout).toMatch(expected);
      });

      test("logs: JSON lines in <state>/logs/gateway.log, the token in neither the file nor stdout", async () => {
        const lines = readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8").trim().split("\n");
        const records = lines.map((l) => JSON.parse(l));
        expect(records.some((r) => r.msg.startsWith("listening on"))).toBe(true);
        expect(records.every((r) => typeof r.ts === "string" && typeof r.level === "string")).toBe(true);
        expect(lines.join("\n")).not.toContain(TOKEN);
        expect(gw.stdout()).not.toContain(TOKEN);
      });

      test("--verbose mirrors debug records (handshakes, req/res) to stdout", () => {
        expect(gw.stdout()).toContain("debug");
        expect(gw.stdout()).toMatch(/\[gateway\] req /);
        expect(gw.stdout()).toContain("client connected");
      });

      test("a second gateway on the same state dir exits non-zero naming the holder", async () => {
        const res = await runCli(["gateway", "--port", "0"], { target, env: { CLAWDIS_STATE_DIR: gw.stateDir } });
        expect(res.code).toBe(1);
        expect(res.stderr).toContain("another gateway is running");
        expect(res.stderr).toContain(`pid ${gw.proc.pid}`);
      });

      test("a busy port exits non-zero saying what holds it", async () => {
        const res = await runCli(["gateway", "--port", String(gw.port)], { target, env: { CLAWDIS_STATE_DIR: tempStateDir() } });
        expect(res.code).toBe(1);
        expect(res.stderr).toContain(`port ${gw.port}`);
        expect(res.stderr).toContain("already in use");
        expect(res.stderr).toContain(`pid ${gw.proc.pid}`);
      });

      test("a stale lock from a dead pid is taken over", async () => {
        const dir = tempStateDir();
        await Bun.write(join(dir, "gateway.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, startedAt: "2020-01-01T00:00:00Z" }));
        const g = await spawnGateway({ target, stateDir: dir });
        const lock = JSON.parse(readFileSync(join(dir, "gateway.lock"), "utf8"));
        expect(lock.pid).toBe(g.proc.pid);
        expect(lock.port).toBe(g.port);
        expect(await g.stop()).toBe(0);
      });

      test("--force fails fast, saying so, when lsof is missing", async () => {
        const res = await runCli(["gateway", "--port", "1", "--force"], {
          target,
          env: { CLAWDIS_STATE_DIR: tempStateDir(), PATH: "/nonexistent" },
        });
        expect(res.code).toBe(1);
        expect(res.stderr).toContain("--force needs lsof");
      });

      test("clawdis health --json prints the same object as the health method", async () => {
        const res = await runCli(["health", "--json", "--url", gw.url, "--token", TOKEN], { target });
        expect(res.code).toBe(0);
        const printed = JSON.parse(res.stdout);
        const direct = (await bystander.request("health")).payload;
        expect(Object.keys(printed).sort()).toEqual(Object.keys(direct).sort());
        // Time-dependent fields aside (ages move on between the two reads).
        const still = (h: any) => ({ ...h, ts: 0, uptimeMs: 0, durationMs: 0, sessions: { ...h.sessions, recent: h.sessions.recent.map((r: any) => ({ ...r, age: 0 })) } });
        expect(still(printed)).toEqual(still(direct));
      });

      test("--force SIGTERMs the listener on the port, logs it, then starts", async () => {
        const first = await spawnGateway({ target });
        const second = await spawnGateway({ target, args: ["--port", String(first.port), "--force"] });
        expect(await first.exited).toBe(0);
        expect(second.port).toBe(first.port);
        expect(second.stdout()).toContain(`SIGTERM to pid ${first.proc.pid}`);
        expect(await second.stop()).toBe(0);
      });
    });

  });
}

function gwVersion(): string {
  return JSON.parse(readFileSync(join(import.meta.dir, "../../../package.json"), "utf8")).version;
}

/** Run an agent turn and wait for its final res. */
async function agentRun(c: TestClient, message: string, key: string, timeoutMs = 5_000) {
  const id = `a-${crypto.randomUUID()}`;
  const from = c.frames.length;
  c.send({ type: "req", id, method: "agent", params: { message, idempotencyKey: key } });
  const ack = await c.next((f) => f.type === "res" && f.id === id, timeoutMs, from);
  const final = await c.next((f) => f.type === "res" && f.id === id && f !== ack, timeoutMs, from);
  return { runId: ack.payload.runId as string, ack, final: final.payload };
}
