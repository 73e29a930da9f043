/**
 * Issue 22 §3–4 through the compiled binary: what was skipped at start is said (one warn
 * line per damaged file, the evidence kept, doctor lists it), and a state dir that cannot
 * be written is one line and exit 2.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BufferJSON, initAuthCreds } from "@whiskeysockets/baileys";
import { BINARY, runCli, tempStateDir } from "../helpers/gateway.ts";
import { mountSmallFs, type SmallFs } from "../helpers/tmpfs.ts";
import { until } from "../helpers/until.ts";

const netns = spawnSync("unshare", ["-n", "true"]).status === 0;

/** A state dir with one damaged file of every kind the gateway reads at start. */
const now = Date.now();

function damagedStateDir(): string {
  const dir = tempStateDir({});
  const put = (rel: string, text: string) => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  const rec = { id: "r1", ts: now, updatedAt: now, direction: "inbound", provider: "telegram", chat: "4242", status: "replied" };
  put("ledger/ledger.jsonl", `${JSON.stringify(rec)}\n{"id":"r2","ts":${now},"status":"rec`);
  put("sessions/telegram%3a4242.jsonl", `${JSON.stringify({ runId: "a", role: "user", content: "hi", ts: now })}\n{"runId":"a","role":"assis`);
  put("idempotency.jsonl", `${JSON.stringify({ key: "k", kind: "agent", state: "done", ts: now })}\n{"key":"k2","ki`);
  put("outbox/0123456789abcdef0123456789abcdef01234567.json", "not json {");
  put("inbound/r9.json", '{"recordId":"r9","mess');
  put("pairing/telegram.json", "\u0000\u0000garbage");
  const creds = { ...initAuthCreds(), me: { id: "15550001111:1@s.whatsapp.net" }, account: { details: "AA==" } };
  put("credentials/whatsapp/creds.json", '{"noiseKey": {"priv');
  put("credentials/whatsapp/creds.json.bak", JSON.stringify(creds, BufferJSON.replacer));
  return dir;
}

/** The gateway in a network namespace with loopback only: WhatsApp (linked by the backup) stays unreachable, nothing leaves the host. */
async function startOffline(stateDir: string): Promise<string> {
  const proc = spawn("unshare", ["-n", "sh", "-c", 'ip link set lo up && exec "$0" gateway --port 0 --webchat-port 0', BINARY], {
    env: { ...process.env, CLAWDIS_STATE_DIR: stateDir, CLAWDIS_GATEWAY_TOKEN: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  try {
    await until(() => out.includes("listening on ws://"), "the gateway to listen", 20_000);
  } finally {
    proc.kill("SIGTERM");
    await new Promise((r) => proc.on("exit", r));
  }
  return out;
}

describe.skipIf(!netns)("what was skipped at start is said", () => {
  test("each damaged file gives one warn line naming it and what was done; nothing is deleted; doctor lists the set-aside files", async () => {
    const dir = damagedStateDir();
    const out = await startOffline(dir);
    const warns = out.split("\n").filter((l) => / warn /.test(l));
    const once = (re: RegExp) => expect(warns.filter((l) => re.test(l)), `${re}\n${out}`).toHaveLength(1);
    once(/ledger\/ledger\.jsonl: skipped a torn last line \(moved aside to ledger\.jsonl\.corrupt-\d{8}T\d{6}Z\)/);
    once(/sessions\/telegram%3a4242\.jsonl: skipped a torn last line \(moved aside to telegram%3a4242\.jsonl\.corrupt-/);
    once(/idempotency\.jsonl: compacted without its unreadable line\(s\); the file as it was is kept as idempotency\.jsonl\.corrupt-/);
    once(/outbox\/0123456789abcdef0123456789abcdef01234567\.json: moved the unreadable file aside to 0123456789abcdef0123456789abcdef01234567\.json\.corrupt-\d{8}T\d{6}Z/);
    once(/inbound\/r9\.json: moved the unreadable file aside to r9\.json\.corrupt-/);
    once(/pairing\/telegram\.json: moved the unreadable file aside to telegram\.json\.corrupt-/);
    once(/whatsapp: .*credentials\/whatsapp\/creds\.json: moved the unreadable file aside to creds\.json\.corrupt-.*; restored WhatsApp credentials from the backup/);

    // The evidence is kept beside its file: the torn line, the unreadable file as it was.
    const aside = (sub: string) => readdirSync(join(dir, sub)).filter((n) => n.includes(".corrupt-"));
    expect(readFileSync(join(dir, "ledger", aside("ledger")[0]!), "utf8")).toBe(`{"id":"r2","ts":${now},"status":"rec`);
    expect(readFileSync(join(dir, "ledger", "ledger.jsonl"), "utf8").endsWith('"status":"replied"}\n')).toBe(true);
    expect(aside("sessions")).toHaveLength(1);
    expect(aside("outbox")).toHaveLength(1);
    expect(readFileSync(join(dir, "outbox", aside("outbox")[0]!), "utf8")).toBe("not json {");
    expect(aside("inbound")).toHaveLength(1);
    expect(aside("pairing")).toHaveLength(1);
    expect(aside("credentials/whatsapp")).toHaveLength(1);
    expect(readdirSync(dir).filter((n) => n.startsWith("idempotency.jsonl.corrupt-"))).toHaveLength(1);
    // The restored creds are the backup's.
    expect(readFileSync(join(dir, "credentials/whatsapp/creds.json"), "utf8")).toBe(readFileSync(join(dir, "credentials/whatsapp/creds.json.bak"), "utf8"));

    // A second start has nothing left to say.
    const again = await startOffline(dir);
    expect(again.split("\n").filter((l) => /corrupt|torn|unreadable|restored/.test(l))).toEqual([]);

    const doctor = await runCli(["doctor"], { env: { CLAWDIS_STATE_DIR: dir, CLAWDIS_GATEWAY_TOKEN: "" }, timeoutMs: 30_000 });
    const line = doctor.stdout.split("\n").find((l) => l.includes("unreadable state file(s)"));
    expect(line, doctor.stdout).toBeDefined();
    expect(line).toContain("7 unreadable state file(s) moved aside at start");
    for (const f of ["ledger/ledger.jsonl.corrupt-", "sessions/telegram%3a4242.jsonl.corrupt-", "outbox/", "inbound/r9.json.corrupt-", "pairing/telegram.json.corrupt-", "credentials/whatsapp/creds.json.corrupt-", "idempotency.jsonl.corrupt-"]) expect(line).toContain(f);
  }, 60_000);
});

const ro = mountSmallFs(256);
const roSkip = "reason" in ro ? ro.reason : null;
if (roSkip) console.warn(`skipped: ${roSkip}`);
afterAll(() => {
  if (!roSkip) (ro as SmallFs).unmount();
});

describe("a state dir it cannot write is one clear line", () => {
  test.skipIf(roSkip !== null)("a read-only state dir (tmpfs remounted ro) exits 2 with one line naming the path", async () => {
    const fs = ro as SmallFs;
    writeFileSync(join(fs.dir, "clawdis.json"), "{}");
    fs.readOnly(true);
    const r = await runCli(["gateway", "--port", "0"], { env: { CLAWDIS_STATE_DIR: fs.dir, CLAWDIS_GATEWAY_TOKEN: "" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`clawdis: cannot write the state dir ${fs.dir} (read-only file system): mount it writable or set CLAWDIS_STATE_DIR\n`);
    expect(r.stdout).toBe("");
    expect(existsSync(join(fs.dir, "logs"))).toBe(false);
  });

  test.skipIf(roSkip !== null)("a state dir already full at start is said as such, one line, exit 1", async () => {
    const full = mountSmallFs(256) as SmallFs;
    try {
      writeFileSync(join(full.dir, "clawdis.json"), "{}");
      full.fill();
      const r = await runCli(["gateway", "--port", "0"], { env: { CLAWDIS_STATE_DIR: full.dir, CLAWDIS_GATEWAY_TOKEN: "" } });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`clawdis: the state dir is full (ENOSPC at ${full.dir}): free space there, then start again\n`);
    } finally {
      full.unmount();
    }
  });

  test.skipIf(spawnSync("setpriv", ["--version"]).status !== 0)("a state dir the service user may not write (EACCES) says permission denied, exit 2", async () => {
    // Root ignores modes: the binary runs as nobody against a root-owned 0755 dir.
    const dir = tempStateDir({});
    chmodSync(dir, 0o755);
    chmodSync(join(dir, "clawdis.json"), 0o644);
    const r = spawnSync("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", BINARY, "gateway", "--port", "0"], {
      env: { ...process.env, CLAWDIS_STATE_DIR: dir, CLAWDIS_GATEWAY_TOKEN: "" },
      encoding: "utf8",
      timeout: 15_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`clawdis: cannot write the state dir ${dir} (permission denied): mount it writable or set CLAWDIS_STATE_DIR\n`);
  });
});
