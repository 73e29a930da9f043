/** Issue 23 §2/§3: what is a chat command, what each one answers, and a file's words for the agent. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SessionStore } from "../../src/agent/sessions.ts";
import { parseCommand, runCommand, type CommandDeps } from "../../src/inbound/commands.ts";
import { mediaLabel } from "../../src/media/label.ts";

describe("parseCommand", () => {
  test("the four commands and the alias, in any case, with a Telegram @botname, anything after ignored", () => {
    expect(["/new", "/reset", "/NEW", " /Reset now please", "/new@clawdis_bot", "/stop", "/Stop", "/status@x_bot extra", "/help"].map((t) => parseCommand(t))).toEqual([
      "new",
      "new",
      "new",
      "new",
      "new",
      "stop",
      "stop",
      "status",
      "help",
    ]);
  });
  test("other text is not a command: paths, longer words, a slash later on, unknown names", () => {
    for (const t of ["/tmp/x is full", "/newer", "please /stop", "/stopper", "/start", "new", "", "/", "/help-me"]) expect(parseCommand(t)).toBeNull();
  });
});

describe("runCommand replies", () => {
  const deps = (over: Partial<CommandDeps> = {}): CommandDeps => ({
    newSession: async () => ({ endedTurns: 0 }),
    stopSession: () => ({ running: 0, queued: 0 }),
    status: async () => ({ backend: "openai", model: "gpt-4o-mini", turns: 3, running: 1, queued: 2, link: { provider: "telegram", state: "connected" } }),
    ...over,
  });
  test("/stop says what was stopped, or that nothing was running", async () => {
    expect(await runCommand("stop", "s", deps())).toBe("Nothing was running.");
    expect(await runCommand("stop", "s", deps({ stopSession: () => ({ running: 1, queued: 0 }) }))).toBe("Stopped the reply in progress.");
    expect(await runCommand("stop", "s", deps({ stopSession: () => ({ running: 1, queued: 2 }) }))).toBe("Stopped the reply in progress and 2 queued messages.");
    expect(await runCommand("stop", "s", deps({ stopSession: () => ({ running: 0, queued: 1 }) }))).toBe("Stopped 1 queued message.");
  });
  test("/status is one short message: backend and model, turns, runs, link", async () => {
    expect(await runCommand("status", "s", deps(), "telegram")).toBe("Backend: openai (gpt-4o-mini)\nConversation: 3 turns\nRuns: 1 running, 2 queued\ntelegram: connected");
  });
  test("/new confirms, naming the turns kept on disk", async () => {
    expect(await runCommand("new", "s", deps())).toBe("New conversation started.");
    expect(await runCommand("new", "s", deps({ newSession: async () => ({ endedTurns: 1 }) }))).toBe("New conversation started (the last one, 1 turn, is kept on disk).");
  });
});

describe("SessionStore /new", () => {
  const archives = (dir: string) => readdirSync(dir).filter((f) => f.startsWith("telegram%3a1.jsonl.ended-")).sort();

  test("the old file is renamed with its end time; the new session has its own id, no turns, and keeps it across a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clawdis-sessions-"));
    const store = new SessionStore(dir, 20);
    await store.append("telegram:1", { runId: "r1", role: "user", content: "hi", ts: 1 });
    await store.append("telegram:1", { runId: "r1", role: "assistant", content: "hello", ts: 2 });
    expect(await store.state("telegram:1")).toEqual({ id: "telegram:1", turns: 1 });
    const { ended, id } = await store.reset("telegram:1");
    expect(ended).toEqual({ id: "telegram:1", turns: 1 });
    expect(id).toStartWith("telegram:1@");
    expect(await store.history("telegram:1")).toEqual([]);
    expect(readFileSync(join(dir, archives(dir)[0]!), "utf8")).toContain('"hello"');
    await store.append("telegram:1", { runId: "r2", role: "user", content: "again", ts: 3 });
    await store.append("telegram:1", { runId: "r2", role: "assistant", content: "yes", ts: 4 });
    const reopened = new SessionStore(dir, 20);
    expect(await reopened.state("telegram:1")).toEqual({ id, turns: 1 });
    expect(await reopened.history("telegram:1")).toEqual([{ user: "again", assistant: "yes" }]);
  });

  test("a run asked before /new and answered after belongs to the ended conversation, not the new one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clawdis-sessions-"));
    const store = new SessionStore(dir, 20);
    await store.append("telegram:1", { runId: "slow", role: "user", content: "slow question", ts: 1 });
    const { id } = await store.reset("telegram:1");
    await store.append("telegram:1", { runId: "slow", role: "assistant", content: "slow answer", ts: 2 });
    expect(await store.history("telegram:1")).toEqual([]);
    expect(await store.state("telegram:1")).toEqual({ id, turns: 0 });
    const archived = readFileSync(join(dir, archives(dir)[0]!), "utf8");
    expect(archived).toContain('"slow question"');
    expect(archived).toContain('"slow answer"');
  });
});

describe("mediaLabel: a file without words", () => {
  test("photo, voice note with its length, document with its name, the rest by kind", () => {
    expect(mediaLabel("photo")).toBe("[photo]");
    expect(mediaLabel("voice note", { seconds: 12 })).toBe("[voice note 0:12]");
    expect(mediaLabel("voice note", { seconds: 75 })).toBe("[voice note 1:15]");
    expect(mediaLabel("document", { name: "report.pdf" })).toBe("[document report.pdf]");
    expect(mediaLabel("document", { name: "a]\nb.pdf" })).toBe("[document a b.pdf]");
    expect(mediaLabel("video")).toBe("[video]");
  });
});
