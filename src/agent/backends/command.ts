import type { spawn as Spawn } from "node:child_process";

/** node:child_process is loaded by the first run, not at every gateway start (BENCHMARKS.md, 6b). */
let spawnFn: Promise<typeof Spawn> | null = null;
import { uuidV5 } from "../../core/uuid.ts";
import type { Logger } from "../../log.ts";
import type { AgentBackend, AgentTurn } from "../types.ts";

/** How much stderr is kept for the error summary. */
const STDERR_TAIL = 2_000;
/** Grace period between SIGTERM and SIGKILL for a child that overstays. */
const KILL_GRACE_MS = 2_000;

const FIELDS = {
  message: (t: AgentTurn) => t.message,
  sessionId: (t: AgentTurn) => t.sessionId,
  to: (t: AgentTurn) => t.to ?? "",
  thinking: (t: AgentTurn) => t.thinking ?? "",
  /** The files of a chat message: a JSON array of `{kind, mime, bytes, path}` (`[]` when none). */
  media: (t: AgentTurn) => JSON.stringify(mediaList(t)),
  /** A UUID (v5) of the conversation's id: stable across its turns, new after `/new`. */
  sessionUuid: (t: AgentTurn) => sessionUuid(t),
  /** "1" on a conversation's first turn, "0" after. */
  isNewSession: (t: AgentTurn) => (isNew(t) ? "1" : "0"),
  /** Who wrote, in which chat, when, the quoted message, earlier group lines (src/agent/context.ts); empty outside chats. */
  context: (t: AgentTurn) => t.context ?? "",
} as const;

const mediaList = (t: AgentTurn) => (t.media ?? []).map(({ kind, mime, bytes, path }) => ({ kind, mime, bytes, path }));
const sessionUuid = (t: AgentTurn) => uuidV5(t.session?.id ?? t.sessionId);
const isNew = (t: AgentTurn) => t.session?.isNew ?? t.history.length === 0;

/** `{{message}}`, `{{sessionId}}`, `{{to}}`, `{{thinking}}` (empty when absent), `{{media}}`, `{{sessionUuid}}`, `{{isNewSession}}` and `{{context}}` in one argv entry. */
export function fillTemplate(arg: string, turn: AgentTurn): string {
  return arg.replace(/\{\{(message|sessionId|to|thinking|media|sessionUuid|isNewSession|context)\}\}/g, (_m, key: keyof typeof FIELDS) => FIELDS[key](turn));
}

/** `agent.commandInput: "history-json"`: what the child reads on stdin (one JSON document). */
export function historyJson(turn: AgentTurn): string {
  return JSON.stringify({
    session: { id: turn.session?.id ?? turn.sessionId, uuid: sessionUuid(turn), isNew: isNew(turn) },
    history: turn.history.flatMap((h) => [
      { role: "user", content: h.user },
      { role: "assistant", content: h.assistant },
    ]),
    message: turn.message,
    context: turn.context ?? "",
    media: mediaList(turn),
  });
}

export interface CommandBackendOptions {
  argv: string[];
  /** argv for a conversation's first turn (`agent.commandFirstTurn`). */
  firstTurnArgv?: string[];
  /** `history-json`: the turn as JSON on stdin (else stdin is closed). */
  input?: "none" | "history-json";
  cwd?: string;
  log: Logger;
}

/**
 * Spawns a configured argv per turn (never through a shell). Stdout lines stream as
 * `assistant` deltas; a line that is JSON goes out as a `json` event with the parsed
 * value; stderr goes to the log; a non-zero exit is a failed run with the exit code and
 * the tail of stderr.
 */
export function commandBackend(opts: CommandBackendOptions): AgentBackend {
  return {
    name: "command",
    async run(turn, emit, signal) {
      const argv = opts.firstTurnArgv && isNew(turn) ? opts.firstTurnArgv : opts.argv;
      const [cmd, ...rest] = argv.map((a) => fillTemplate(a, turn));
      const stdin = opts.input === "history-json";
      const spawn = await (spawnFn ??= import("node:child_process").then((m) => m.spawn));
      return new Promise((resolve, reject) => {
        const child = spawn(cmd!, rest, {
          cwd: opts.cwd,
          stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"],
          env: { ...process.env, CLAWDIS_RUN_ID: turn.runId, CLAWDIS_SESSION_ID: turn.sessionId, CLAWDIS_SESSION_UUID: sessionUuid(turn) },
        });
        if (stdin) {
          // A child that never reads stdin (or exits early) must not fail the run with EPIPE.
          child.stdin!.on("error", () => {});
          child.stdin!.end(`${historyJson(turn)}\n`);
        }
        let text = "";
        let lastJson: unknown;
        let stderr = "";
        let pending = "";
        const onLine = (line: string) => {
          const trimmed = line.trim();
          if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && trimmed.length > 1) {
            try {
              lastJson = JSON.parse(trimmed);
              emit("json", lastJson);
              return;
            } catch {}
          }
          text += `${line}\n`;
          emit("assistant", { delta: `${line}\n` });
        };
        child.stdout!.setEncoding("utf8");
        child.stdout!.on("data", (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf("\n")) >= 0) {
            onLine(pending.slice(0, nl).replace(/\r$/, ""));
            pending = pending.slice(nl + 1);
          }
        });
        child.stderr!.setEncoding("utf8");
        child.stderr!.on("data", (chunk: string) => {
          stderr = (stderr + chunk).slice(-STDERR_TAIL);
          for (const l of chunk.split("\n")) if (l.trim()) opts.log.debug("agent command stderr", { runId: turn.runId, line: l.slice(0, 500) });
        });
        let killTimer: ReturnType<typeof setTimeout> | null = null;
        const onAbort = () => {
          child.kill("SIGTERM");
          killTimer = setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
          killTimer.unref?.();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        child.on("error", (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(new Error(`cannot run agent.command ${JSON.stringify(cmd)}: ${err.message}`));
        });
        child.on("close", (code, sig) => {
          signal.removeEventListener("abort", onAbort);
          if (killTimer) clearTimeout(killTimer);
          if (pending) onLine(pending);
          if (signal.aborted) return reject(signal.reason);
          if (code !== 0) {
            const tail = stderr.trim().split("\n").slice(-5).join("\n");
            return reject(new Error(`agent command exited with ${code ?? sig}${tail ? `: ${tail}` : ""}`));
          }
          let summary = text.trim();
          if (!summary && lastJson && typeof lastJson === "object") {
            const j = lastJson as { result?: unknown; text?: unknown };
            summary = typeof j.result === "string" ? j.result : typeof j.text === "string" ? j.text : "";
          }
          resolve({ summary });
        });
      });
    },
  };
}
