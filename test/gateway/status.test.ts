import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { ConfigSchema } from "../../src/config/schema.ts";
import { status } from "../../src/gateway/methods/status.ts";
import { JsonText } from "../../src/gateway/methods/types.ts";
import { createGateway } from "../../src/gateway/server.ts";
import { StatusSchema } from "../../src/protocol/index.ts";
import { Providers } from "../../src/providers/index.ts";
import { FakeTelegram } from "../helpers/fake-provider.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function gatewayWith(providers: Providers) {
  const dir = mkdtempSync(join(tmpdir(), "clawdis-status-"));
  dirs.push(dir);
  const config = v.parse(ConfigSchema, { webchat: { enabled: false }, agent: { backend: "echo" } });
  return createGateway({ config, stateDir: dir, lock: false, providers }).ctx;
}

function statusOf(gw: ReturnType<typeof gatewayWith>): unknown {
  const out = status(undefined as never, { gw, caller: undefined as never, ack: () => {} });
  expect(out).toBeInstanceOf(JsonText);
  return JSON.parse((out as JsonText<unknown>).json);
}

describe("status: JSON put together from pieces, in StatusSchema's shape", () => {
  test("no provider: the text parses to what the schema describes", () => {
    const gw = gatewayWith(new Providers());
    const s = statusOf(gw);
    expect(v.safeParse(StatusSchema, s).success).toBe(true);
    expect(s).toEqual({
      version: gw.build.version,
      commit: gw.build.commit,
      host: gw.host,
      uptimeMs: expect.any(Number),
      linked: [],
      providers: { whatsapp: { linked: false, connected: false }, telegram: { configured: false, connected: false } },
      clients: 0,
      agent: { backend: "echo", running: 0 },
    });
  });

  test("a linked, then disconnected provider, and a build with characters JSON must escape", () => {
    const tg = new FakeTelegram();
    let connected = true;
    tg.status = () => ({ linked: true, connected });
    const gw = gatewayWith(new Providers([tg]));
    expect(statusOf(gw)).toMatchObject({ linked: ["telegram"], providers: { telegram: { configured: true, connected: true } } });
    connected = false;
    const build = gw.build as { version: string; commit: string };
    build.commit = 'a"b\\c\u0001';
    const s = statusOf(gw) as { commit: string; providers: unknown };
    expect(v.safeParse(StatusSchema, s).success).toBe(true);
    expect(s.commit).toBe('a"b\\c\u0001');
    expect(s.providers).toEqual({ whatsapp: { linked: false, connected: false }, telegram: { configured: true, connected: false } });
  });
});
