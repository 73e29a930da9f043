/** `agent.mcp` in the config file (issue 24): defaults, and a bad server named with its fix. */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { RESTART_KEYS } from "../../src/config/reload.ts";
import { tempStateDir } from "../helpers/gateway.ts";

function load(agent: unknown) {
  const file = join(tempStateDir(), "clawdis.json");
  writeFileSync(file, JSON.stringify({ agent }));
  return loadConfig({ defaultFile: file, env: {} });
}

describe("agent.mcp", () => {
  test("defaults: no servers, 60 s per call, 20,000 result characters, 30 s to start, 8 tool rounds", () => {
    const { agent } = load({}).config;
    expect(agent.mcp).toEqual({ servers: {}, callTimeoutMs: 60_000, maxResultChars: 20_000, startTimeoutMs: 30_000 });
    expect(agent.maxToolRounds).toBe(8);
  });

  test("a stdio and a Streamable HTTP server, with their defaults", () => {
    const { servers } = load({ mcp: { servers: { fs: { command: ["npx", "server"] }, web: { url: "http://127.0.0.1:9/mcp", lazy: true } } } }).config.agent.mcp;
    expect(servers.fs).toEqual({ command: ["npx", "server"], lazy: false, denyTools: [] });
    expect(servers.web).toEqual({ url: "http://127.0.0.1:9/mcp", lazy: true, denyTools: [] });
  });

  test("a bad server or name is refused with a line saying what is wanted", () => {
    let message = "";
    try {
      load({ mcp: { servers: { a__b: { command: ["x"] }, none: {}, both: { command: ["x"], url: "http://a/" } } } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("agent.mcp.servers.a__b: expected a name of letters, digits, - and single _");
    expect(message).toContain("agent.mcp.servers.none: expected either command (a stdio server's argv) or url (a Streamable HTTP server), got neither");
    expect(message).toContain("agent.mcp.servers.both: expected either command");
  });

  test("servers are started once: changing agent.mcp needs a restart", () => {
    expect(RESTART_KEYS).toContain("agent.mcp");
  });
});
