/**
 * Issue 20 §8: rotating back does not revive old WebChat sessions. Through the compiled
 * binary: sign in with token A, rotate to B, back to A (live, by SIGHUP; and across
 * restarts) — A's old cookie and tab secret stay dead, and a fresh sign-in with A works.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnGateway, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until, webchatUrlFrom } from "../helpers/webchat.ts";
import { relayProtocols } from "../../src/webchat/tab-secret.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const A = "rotation-token-a-61f0";
const B = "rotation-token-b-93d4";

let gw: RunningGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

interface SignIn {
  cookie: string;
  secret: string;
}

async function signIn(url: string, token: string): Promise<SignIn> {
  const res = await fetch(`${url}/api/login`, { method: "POST", headers: { Origin: url, "Content-Type": "application/json" }, body: JSON.stringify({ token }) });
  expect(res.status).toBe(200);
  const { secret } = (await res.json()) as { secret: string };
  return { cookie: res.headers.get("set-cookie")!.split(";")[0]!, secret };
}

/** Whether the relay socket opens for this sign-in (the page's own way: cookie + tab secret). */
function opens(url: string, s: SignIn): Promise<boolean> {
  const ws = new WebSocket(`${url.replace("http:", "ws:")}/ws`, { headers: { Origin: url, Cookie: s.cookie }, protocols: relayProtocols(s.secret) } as any);
  return new Promise((resolve) => {
    ws.onmessage = () => {
      ws.close();
      resolve(true);
    };
    ws.onerror = () => resolve(false);
  });
}

/** /api/session's verdict for this sign-in. */
const authenticated = async (url: string, s: SignIn) =>
  ((await (await fetch(`${url}/api/session`, { headers: { Cookie: s.cookie, "X-Clawdis-Tab": s.secret } })).json()) as { authenticated: boolean }).authenticated;

const writeToken = (dir: string, token: string) => writeFileSync(join(dir, "clawdis.json"), JSON.stringify({ gateway: { token, watchConfig: false } }));
const keyOf = (dir: string) => readFileSync(join(dir, "webchat-session.key"), "utf8");

describe("no session outlives a rotation", () => {
  test("live, by SIGHUP: A → B → A leaves A's old sign-in dead; a new sign-in with A works", async () => {
    gw = await spawnGateway({ target, config: { gateway: { token: A, watchConfig: false } } });
    const url = await webchatUrlFrom(gw.stdout);
    const old = await signIn(url, A);
    expect(await opens(url, old)).toBe(true);
    const key0 = keyOf(gw.stateDir);

    const restarts = () => gw!.stdout().split("webchat restarted with the rotated token").length - 1;
    for (const [token, n] of [[B, 1], [A, 2]] as const) {
      writeToken(gw.stateDir, token);
      gw.proc.kill("SIGHUP");
      await until(() => restarts() === n, 15_000, `WebChat restarted ${n}× in:\n${gw!.stdout()}`);
      // Same port as before; every rotation wrote a new key.
      expect(await webchatUrlFrom(gw.stdout)).toBe(url);
      expect(keyOf(gw.stateDir)).not.toBe(key0);
    }
    expect(await authenticated(url, old)).toBe(false);
    expect(await opens(url, old)).toBe(false);
    const fresh = await signIn(url, A);
    expect(await opens(url, fresh)).toBe(true);
  }, 60_000);

  test("across restarts: A → B → A on the same state dir leaves A's old sign-in dead", async () => {
    gw = await spawnGateway({ target, config: { gateway: { token: A, watchConfig: false } } });
    const stateDir = gw.stateDir;
    let url = await webchatUrlFrom(gw.stdout);
    const old = await signIn(url, A);
    // A plain restart with the same token keeps the sign-in (the key file is unchanged).
    await gw.stop();
    gw = await spawnGateway({ target, stateDir });
    url = await webchatUrlFrom(gw.stdout);
    const same = { cookie: old.cookie.replace(/^clawdis_webchat_\d+=/, `clawdis_webchat_${new URL(url).port}=`), secret: old.secret };
    expect(await opens(url, same)).toBe(true);
    for (const token of [B, A]) {
      await gw.stop();
      writeToken(stateDir, token);
      gw = await spawnGateway({ target, stateDir });
      url = await webchatUrlFrom(gw.stdout);
    }
    const replay = { cookie: old.cookie.replace(/^clawdis_webchat_\d+=/, `clawdis_webchat_${new URL(url).port}=`), secret: old.secret };
    expect(await opens(url, replay)).toBe(false);
    expect(await opens(url, await signIn(url, A))).toBe(true);
  }, 60_000);
});
