/** The emitted JSON Schema is the valibot schemas' twin: it accepts what they accept and rejects what they reject. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { ClientFrameSchema, ServerFrameSchema } from "../../src/protocol/index.ts";
import { renderSchema } from "../../build/protocol-gen.ts";
import { helloFrame } from "../helpers/client.ts";
import { ROOT, tempStateDir } from "../helpers/gateway.ts";
import { schemaValidators } from "../helpers/schema.ts";

const invalidServerFrames: [string, unknown][] = [
  ["unknown type", { type: "surprise" }],
  ["hello-ok without policy", { type: "hello-ok", protocol: 1, server: { version: "1", commit: "x", host: "h", connId: "c" }, features: { methods: [], events: [] }, snapshot: { presence: [], health: { ok: true, ts: 1, uptimeMs: 1, web: { linked: false, connected: false }, telegram: { configured: false }, agent: { backend: "echo" } }, stateVersion: { presence: 1, health: 1 }, uptimeMs: 1 } }],
  ["hello-error with an unknown reason", { type: "hello-error", reason: "because", message: "no" }],
  ["res ok:false without error", { type: "res", id: "1", ok: false }],
  ["res ok:true without payload", { type: "res", id: "1", ok: true }],
  ["res with an unknown error code", { type: "res", id: "1", ok: false, error: { code: "OOPS", message: "x" } }],
  ["event without a name", { type: "event", payload: {} }],
  ["event with seq 0", { type: "event", event: "tick", payload: { ts: 1 }, seq: 0 }],
];

const invalidClientFrames: [string, unknown][] = [
  ["hello without client", { type: "hello", minProtocol: 1, maxProtocol: 1, caps: [] }],
  ["hello with a string protocol", { ...helloFrame(), minProtocol: "1" }],
  ["hello without caps", (({ caps: _c, ...rest }) => rest)(helloFrame())],
  ["req without id", { type: "req", method: "health" }],
  ["req with an empty method", { type: "req", id: "1", method: "" }],
];

describe("JSON Schema emitted from the valibot schemas", () => {
  const { server, client } = schemaValidators();

  for (const [name, frame] of invalidServerFrames) {
    test(`rejects a server frame: ${name}`, () => {
      expect(server(frame)).toBe(false);
      expect(v.safeParse(ServerFrameSchema, frame).success).toBe(false);
    });
  }
  for (const [name, frame] of invalidClientFrames) {
    test(`rejects a client frame: ${name}`, () => {
      expect(client(frame)).toBe(false);
      expect(v.safeParse(ClientFrameSchema, frame).success).toBe(false);
    });
  }

  test("accepts valid client frames", () => {
    for (const frame of [helloFrame({ auth: { token: "t" }, locale: "en" }), { type: "req", id: "1", method: "health" }]) {
      expect(client(frame)).toBe(true);
      expect(v.safeParse(ClientFrameSchema, frame).success).toBe(true);
    }
  });

  test("defines every method's params and result and every event's payload", () => {
    const defs = Object.keys((JSON.parse(renderSchema()) as { $defs: object }).$defs);
    for (const name of ["HealthResult", "StatusResult", "SystemPresenceResult", "SystemEventParams", "SendParams", "AgentParams", "AgentResult", "PresenceEventPayload", "TickEventPayload", "ShutdownEventPayload", "AgentEventPayload"]) {
      expect(defs).toContain(name);
    }
  });

  test("npm run protocol:gen writes it and protocol:check fails once the file drifts", () => {
    const out = join(tempStateDir(), "protocol.schema.json");
    const gen = spawnSync(process.execPath, [join(ROOT, "build/protocol-gen.ts"), "--out", out]);
    expect(gen.status).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(renderSchema());
    const ok = spawnSync(process.execPath, [join(ROOT, "build/protocol-gen.ts"), "--check", "--out", out]);
    expect(ok.status).toBe(0);
    writeFileSync(out, readFileSync(out, "utf8").replace('"hello-ok"', '"hello-okay"'));
    const stale = spawnSync(process.execPath, [join(ROOT, "build/protocol-gen.ts"), "--check", "--out", out], { encoding: "utf8" });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain("stale");
  });
});
