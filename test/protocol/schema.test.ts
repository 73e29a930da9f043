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
    const { instanceId: _i, ...clientWithoutId } = helloFrame().client;
    for (const frame of [
      helloFrame({ auth: { token: "t" }, locale: "en" }),
      { type: "req", id: "1", method: "health" },
      // The runbook's clients: no caps, no instanceId, fields this gateway does not know.
      (({ caps: _c, ...rest }) => rest)(helloFrame()),
      helloFrame({ client: { ...clientWithoutId, future: 1 }, somethingNew: true }),
    ]) {
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

  test("npm run protocol:gen writes schema and Swift models; protocol:check fails once a copy drifts", async () => {
    const dir = tempStateDir();
    const gen = spawnSync(process.execPath, [join(ROOT, "build/protocol-gen.ts"), "--dir", dir]);
    expect(gen.status).toBe(0);
    expect(readFileSync(join(dir, "protocol.schema.json"), "utf8")).toBe(renderSchema());
    const swift = readFileSync(join(dir, "ClawdisProtocol.swift"), "utf8");
    for (const type of ["struct HelloOk", "struct Req", "struct Res", "struct Event", "struct AgentParams", "struct PresenceEntry"]) {
      expect(swift).toContain(`public ${type}`);
    }
    expect(swift).toContain("Codable");
    const ok = spawnSync(process.execPath, [join(ROOT, "build/protocol-gen.ts"), "--check", "--dir", dir]);
    expect(ok.status).toBe(0);
    writeFileSync(join(dir, "ClawdisProtocol.swift"), swift.replace("struct HelloOk", "struct HelloOkay"));
    const stale = spawnSync(process.execPath, [join(ROOT, "build/protocol-gen.ts"), "--check", "--dir", dir], { encoding: "utf8" });
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain("ClawdisProtocol.swift");
  });

  test("the checked-in copies in src/protocol/generated are current", () => {
    const check = spawnSync(process.execPath, [join(ROOT, "build/protocol-gen.ts"), "--check"], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

});
