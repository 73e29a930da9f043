/**
 * Issue 20 §3, §7, §9, §11 through the compiled binary: the config file as another local
 * account or an editor would treat it (moved away, symlinked, planted links, a token
 * written as a number).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helloFrame, TestClient, type Frame } from "../helpers/client.ts";
import { runCli, spawnGateway, tempStateDir, type RunningGateway, type Target } from "../helpers/gateway.ts";
import { until } from "../helpers/until.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const TOKEN = "kept-token-5f2a91";
const NEXT = "rotated-token-0c7d3e";

let gw: RunningGateway | null = null;
afterEach(async () => {
  await gw?.stop();
  gw = null;
});

async function hello(url: string, token?: string): Promise<{ c: TestClient; f: Frame }> {
  const c = await TestClient.open(url);
  c.send(helloFrame(token ? { auth: { token } } : {}));
  const f = await c.next((x) => x.type === "hello-ok" || x.type === "hello-error");
  return { c, f };
}

const config = (token: string | number, watchConfig = true) => JSON.stringify({ gateway: { token, watchConfig }, webchat: { enabled: false } });

describe("A reload never drops the token (§3)", () => {
  test("SIGHUP with the file moved away is refused: the token stays, the log and health say why", async () => {
    gw = await spawnGateway({ target, config: config(TOKEN, false) });
    const file = join(gw.stateDir, "clawdis.json");
    // What an editor that saves by delete-and-recreate leaves for a moment.
    renameSync(file, `${file}.bak`);
    gw.proc.kill("SIGHUP");
    await until(() => gw!.stdout().includes("config reload (SIGHUP) refused"), "the refusal in the log");
    expect(gw.stdout()).toContain(`config ${file} is missing (moved or deleted): the running config stays`);
    expect(gw.stdout()).not.toContain("applied gateway.token");

    const bare = await hello(gw.url);
    expect(bare.f).toMatchObject({ type: "hello-error", reason: "unauthorized" });
    const { c, f } = await hello(gw.url, TOKEN);
    expect(f.type).toBe("hello-ok");
    const health = (await c.request("health")).payload;
    expect(health.config.file).toBe(file);
    expect(health.config.lastError.problems[0]).toContain("is missing");
    c.close();
  });

  test("config.reload with the file replaced by a dangling symlink is refused naming the link; the token stays", async () => {
    gw = await spawnGateway({ target, config: config(TOKEN) });
    const file = join(gw.stateDir, "clawdis.json");
    rmSync(file);
    symlinkSync(join(gw.stateDir, "nowhere.json"), file);
    const { c } = await hello(gw.url, TOKEN);
    const res = await c.request("config.reload");
    expect(res.payload.applied).toBe(false);
    expect(res.payload.problems[0]).toContain(`is a symlink to ${join(gw.stateDir, "nowhere.json")}, which is missing`);
    c.close();
    expect((await hello(gw.url)).f).toMatchObject({ type: "hello-error", reason: "unauthorized" });
    const res2 = await runCli(["gateway", "reload", "--url", gw.url, "--token", TOKEN], { target });
    expect(res2.code).toBe(1);
    expect(res2.stdout + res2.stderr).toContain("which is missing");
  });
});

describe("A symlinked config is watched where it lives (§7)", () => {
  test("editing the link's target rotates the token; re-pointing the link is followed too", async () => {
    const dotfiles = mkdtempSync(join(tmpdir(), "clawdis-dotfiles-"));
    const real = join(dotfiles, "clawdis.json");
    writeFileSync(real, config(TOKEN));
    const stateDir = tempStateDir();
    symlinkSync(real, join(stateDir, "clawdis.json"));
    gw = await spawnGateway({ target, stateDir });
    const { c: old } = await hello(gw.url, TOKEN);

    writeFileSync(real, config(NEXT));
    expect(await old.closed).toEqual({ code: 4001, reason: "token rotated" });
    expect((await hello(gw.url, TOKEN)).f).toMatchObject({ type: "hello-error", reason: "unauthorized" });
    const { c, f } = await hello(gw.url, NEXT);
    expect(f.type).toBe("hello-ok");
    c.close();
    await until(() => gw!.stdout().includes("config reloaded (config file changed): applied gateway.token"), "the reload line");

    // The link now points elsewhere (a dotfile manager switching profiles): the new target is watched.
    const other = join(dotfiles, "other.json");
    writeFileSync(other, config(NEXT));
    const link = join(stateDir, "clawdis.json");
    symlinkSync(other, `${link}.new`);
    renameSync(`${link}.new`, link);
    await Bun.sleep(500);
    writeFileSync(other, config(TOKEN));
    await until(async () => (await hello(gw!.url, TOKEN)).f.type === "hello-ok", "the re-pointed target's token");
    rmSync(dotfiles, { recursive: true, force: true });
  });
});

describe("doctor --fix never follows a symlink (§9)", () => {
  test("links planted in the state dir to a file and a directory elsewhere: targets keep their modes; the links are reported", async () => {
    const stateDir = tempStateDir();
    const elsewhere = mkdtempSync(join(tmpdir(), "clawdis-elsewhere-"));
    const victimFile = join(elsewhere, "notes.txt");
    const victimDir = join(elsewhere, "shared");
    writeFileSync(victimFile, "mine");
    chmodSync(victimFile, 0o644);
    mkdirSync(victimDir);
    chmodSync(victimDir, 0o755);
    symlinkSync(victimFile, join(stateDir, "idempotency.jsonl"));
    symlinkSync(victimDir, join(stateDir, "gateway.env"));
    // A real file beside them is still fixed.
    mkdirSync(join(stateDir, "logs"));
    writeFileSync(join(stateDir, "logs", "gateway.log"), "");
    chmodSync(join(stateDir, "logs", "gateway.log"), 0o644);

    const res = await runCli(["doctor", "--fix"], { target, env: { CLAWDIS_STATE_DIR: stateDir, CLAWDIS_GATEWAY_TOKEN: "" } });
    expect(statSync(victimFile).mode & 0o777).toBe(0o644);
    expect(statSync(victimDir).mode & 0o777).toBe(0o755);
    expect(res.stdout).toContain(`changed: chmod 600 ${join(stateDir, "logs", "gateway.log")} (was 0644)`);
    expect(res.stdout).toContain(`${join(stateDir, "idempotency.jsonl")} -> ${victimFile}`);
    expect(res.stdout).toContain(`${join(stateDir, "gateway.env")} -> ${victimDir}`);
    expect(res.stdout).not.toContain(`chmod 600 ${join(stateDir, "gateway.env")}`);
    rmSync(elsewhere, { recursive: true, force: true });
  });
});

describe("Secrets never echoed (§11)", () => {
  // A safe integer, so the number survives JSON parsing digit for digit.
  const NUMERIC = 918273645546372;
  const digits = String(NUMERIC);

  test("a numeric token at start-up: the message names gateway.token and the type, never the digits", async () => {
    const stateDir = tempStateDir(config(NUMERIC));
    const res = await runCli(["gateway", "--port", "0"], { target, env: { CLAWDIS_STATE_DIR: stateDir, CLAWDIS_GATEWAY_TOKEN: "" } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("gateway.token: expected string, got a number (value not shown: it is a secret");
    expect(res.stdout + res.stderr).not.toContain(digits);
  });

  test("a numeric token by reload: not in the log file, `gateway logs` or health.config.lastError", async () => {
    gw = await spawnGateway({ target, config: config(TOKEN) });
    writeFileSync(join(gw.stateDir, "clawdis.json"), config(NUMERIC));
    await until(() => gw!.stdout().includes("config reload (config file changed) refused"), "the refusal");
    const { c } = await hello(gw.url, TOKEN);
    const lastError = (await c.request("health")).payload.config.lastError;
    c.close();
    expect(lastError.problems.join("\n")).toContain("gateway.token: expected string, got a number");
    expect(JSON.stringify(lastError)).not.toContain(digits);
    const logs = await runCli(["gateway", "logs"], { target, env: { CLAWDIS_STATE_DIR: gw.stateDir } });
    expect(logs.stdout).toContain("gateway.token: expected string, got a number");
    expect(logs.stdout).not.toContain(digits);
    expect(readFileSync(join(gw.stateDir, "logs", "gateway.log"), "utf8")).not.toContain(digits);
    expect(gw.stdout()).not.toContain(digits);
  });
});
