/** kill -9 at the worst moment: after restart nothing acknowledged is lost or done twice. */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TestClient } from "../helpers/client.ts";
import { spawnGateway, tempStateDir, type Target } from "../helpers/gateway.ts";

const target = (process.env.CLAWDIS_E2E_TARGET ?? "binary") as Target;
const FIXTURES = join(import.meta.dir, "..", "fixtures", "agents");

async function agentOnce(url: string, key: string, message = "hello") {
  const { c } = await TestClient.connect(url);
  c.send({ type: "req", id: "r", method: "agent", params: { message, idempotencyKey: key, sessionId: "crash" } });
  const ack = await c.next((f) => f.type === "res" && f.id === "r");
  return { c, ack };
}

describe("Crash safety (kill -9)", () => {
  test("a run killed mid-flight: after restart its message is on disk and a retry returns the same runId, not a second run", async () => {
    const dir = tempStateDir();
    const pidFile = join(dir, "agent.pid");
    const starts = join(dir, "starts.log");
    await Bun.write(
      join(dir, "clawdis.json"),
      JSON.stringify({ agent: { backend: "command", command: [join(FIXTURES, "hang.sh"), pidFile] } }),
    );
    const g1 = await spawnGateway({ target, stateDir: dir });
    const key = crypto.randomUUID();
    const { c, ack } = await agentOnce(g1.url, key, "do not lose me");
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await Bun.sleep(20);
    const firstPid = Number(readFileSync(pidFile, "utf8"));
    g1.proc.kill("SIGKILL");
    await g1.exited;
    await c.closed;
    process.kill(firstPid, "SIGKILL"); // the orphaned agent child
    await Bun.write(starts, "");
    const session = readFileSync(join(dir, "sessions", "crash.jsonl"), "utf8");
    expect(session).toContain("do not lose me");

    const g2 = await spawnGateway({ target, stateDir: dir });
    const { c: c2, ack: ack2 } = await agentOnce(g2.url, key, "do not lose me");
    expect(ack2.payload.runId).toBe(ack.payload.runId);
    const final = await c2.next((f) => f.type === "res" && f.id === "r" && f !== ack2);
    expect(final.payload).toMatchObject({ runId: ack.payload.runId, status: "error" });
    expect(final.payload.summary).toContain("interrupted");
    // The command was not started again for this key.
    await Bun.sleep(200);
    expect(Number(readFileSync(pidFile, "utf8"))).toBe(firstPid);
    c2.close();
    await g2.stop();
  });

  test("a finished run survives kill -9: a retry after restart gets the same final without running again", async () => {
    const dir = tempStateDir();
    const log = join(dir, "runs.log");
    await Bun.write(
      join(dir, "clawdis.json"),
      JSON.stringify({ agent: { backend: "command", command: [join(FIXTURES, "timed.sh"), log, "s", "{{message}}"] } }),
    );
    const g1 = await spawnGateway({ target, stateDir: dir });
    const key = crypto.randomUUID();
    const { c, ack } = await agentOnce(g1.url, key, "once only");
    const final = await c.next((f) => f.type === "res" && f.id === "r" && f !== ack);
    expect(final.payload.summary).toBe("done once only");
    g1.proc.kill("SIGKILL");
    await g1.exited;
    const g2 = await spawnGateway({ target, stateDir: dir });
    const { c: c2, ack: ack2 } = await agentOnce(g2.url, key, "once only");
    const final2 = await c2.next((f) => f.type === "res" && f.id === "r" && f !== ack2);
    expect(ack2.payload.runId).toBe(ack.payload.runId);
    expect(final2.payload).toEqual(final.payload);
    expect(readFileSync(log, "utf8").match(/^start/gm)!.length).toBe(1);
    c2.close();
    await g2.stop();
  });
});
