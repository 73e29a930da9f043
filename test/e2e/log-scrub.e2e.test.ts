/** Issue 17 loose end: after a token rotation the new token is scrubbed from log text too (through the binary). */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient, helloFrame } from "../helpers/client.ts";
import { spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const OLD = "old-token-3a9f5c";
const NEW = "new-token-c47e21";
const base = { webchat: { enabled: false }, gateway: { watchConfig: false } };

let gw: RunningGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A browser Origin the gateway refuses is logged as free text: the way a secret could reach the log. */
async function refusedOrigin(url: string, origin: string): Promise<number> {
  const res = await fetch(url.replace(/^ws/, "http"), { headers: { Upgrade: "websocket", Connection: "Upgrade", Origin: origin } });
  await res.text();
  return res.status;
}

describe("Log scrubbing follows a token rotation", () => {
  test("a log line holding the new token's value is redacted after the reload, in the file and on stdout", async () => {
    gw = await spawnGateway({ target, config: { ...base, gateway: { ...base.gateway, token: OLD } } });
    const logFile = join(gw.stateDir, "logs", "gateway.log");
    const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "") + gw!.stdout();
    writeFileSync(join(gw.stateDir, "clawdis.json"), JSON.stringify({ ...base, gateway: { ...base.gateway, token: NEW } }));
    const c = await TestClient.open(gw.url);
    c.send(helloFrame({ auth: { token: OLD } }));
    await c.next((f) => f.type === "hello-ok");
    const answer = await c.request("config.reload");
    expect(answer.payload).toMatchObject({ applied: true, changed: ["gateway.token"] });

    expect(await refusedOrigin(gw.url, `http://${NEW}.example`)).toBe(403);
    expect(await refusedOrigin(gw.url, `http://${OLD}.example`)).toBe(403);
    await until(() => (log().match(/refused browser origin/g) ?? []).length >= 4, "both refusals in the file and on stdout");
    expect(log()).toContain("http://[redacted].example");
    expect(log()).not.toContain(NEW);
    expect(log()).not.toContain(OLD);
  });
});
