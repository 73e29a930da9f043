/**
 * The bytecode of the binary laid out in the order a gateway start runs it. Bun writes that
 * order when the binary runs with BUN_BYTECODE_ORDER_OUT set; `--bytecode-order` lays the
 * next build out by it, so a start touches fewer pages of the 120 MB file (idle RSS after
 * start + 1 client: 53.1 → 49.7 MiB, BENCHMARKS.md). The training run is what a start does:
 * `gateway` with embedded defaults (WebChat off, echo agent), one client's hello, `status`
 * and `health`, then SIGTERM. If it fails, the build goes on without an order.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const TRAINING_TIMEOUT_MS = 20_000;

export async function trainBytecodeOrder(binary: string, orderFile: string): Promise<string | null> {
  const stateDir = mkdtempSync(join(tmpdir(), "clawdis-order-"));
  writeFileSync(join(stateDir, "clawdis.json"), `{ webchat: { enabled: false }, agent: { backend: "echo" } }\n`);
  rmSync(orderFile, { force: true });
  // Only what a start needs from the environment: a TELEGRAM_BOT_TOKEN or OPENAI_API_KEY of the
  // one building must not make the training gateway talk to real services.
  const env: Record<string, string> = { CLAWDIS_STATE_DIR: stateDir, CLAWDIS_GATEWAY_TOKEN: "", BUN_BYTECODE_ORDER_OUT: orderFile };
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  const proc = spawn(binary, ["gateway", "--port", "0"], { env, stdio: ["ignore", "pipe", "ignore"] });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const timer = setTimeout(() => proc.kill("SIGKILL"), TRAINING_TIMEOUT_MS);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      proc.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      void exited.then((code) => reject(new Error(`the gateway exited (${code}) before listening`)));
    });
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`);
      const asks = ["status", "health"];
      ws.onopen = () =>
        ws.send(JSON.stringify({ type: "hello", minProtocol: 1, maxProtocol: 1, client: { name: "build", version: "1", platform: process.platform, mode: "cli" } }));
      ws.onmessage = (e) => {
        const frame = JSON.parse(String(e.data)) as { type: string };
        if (frame.type === "event") return;
        const method = asks.shift();
        if (!method) return ws.close();
        ws.send(JSON.stringify({ type: "req", id: method, method }));
      };
      ws.onclose = () => resolve();
      ws.onerror = () => reject(new Error("the training client's socket failed"));
    });
    proc.kill("SIGTERM");
    const code = await exited;
    if (code !== 0 || !existsSync(orderFile) || statSync(orderFile).size === 0) throw new Error(`no order written (exit ${code})`);
    return orderFile;
  } catch (err) {
    proc.kill("SIGKILL");
    console.warn(`bytecode order: training run failed (${(err as Error).message}); building without it`);
    return null;
  } finally {
    clearTimeout(timer);
    rmSync(stateDir, { recursive: true, force: true });
  }
}
