/**
 * The Bun binary takes no settings from the directory it was started in: no `.env` and no
 * `bunfig.toml` autoload (Node and Deno never read them; scanning the directory also cost
 * every start 8–16 ms). A `.env` there that sets a token must not make the gateway ask for one.
 */
import { afterAll, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { BINARY, tempStateDir } from "../helpers/gateway.ts";

const procs: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
});

test("a .env in the working directory is not read: no token is required, the first client gets hello-ok", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "clawdis-cwd-"));
  writeFileSync(join(cwd, ".env"), "CLAWDIS_GATEWAY_TOKEN=from-dotenv\n");
  writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
  const env: Record<string, string | undefined> = { ...process.env, CLAWDIS_STATE_DIR: tempStateDir({ webchat: { enabled: false } }) };
  delete env.CLAWDIS_GATEWAY_TOKEN;
  const proc = spawn(BINARY, ["gateway", "--port", "0"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  procs.push(proc);
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 20_000);
    proc.stdout!.on("data", (d) => {
      out += d;
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.stderr!.on("data", (d) => (out += d));
  });
  const { c, ok } = await TestClient.connect(`ws://127.0.0.1:${port}`);
  expect(ok.type).toBe("hello-ok");
  c.close();
  proc.kill("SIGTERM");
  expect(await new Promise((r) => proc.on("exit", r))).toBe(0);
}, 30_000);
