/** Issue 24 §3: a session keeps each turn's tool steps; historyTurns counts user turns, steps ride along; a restart reads them back. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SessionStore } from "../../src/agent/sessions.ts";

const steps = (n: number) => [
  { role: "assistant", content: null, tool_calls: [{ id: `c${n}`, type: "function", function: { name: "s__t", arguments: "{}" } }] },
  { role: "tool", tool_call_id: `c${n}`, content: `result ${n}` },
];

async function say(store: SessionStore, n: number, withSteps: boolean) {
  await store.append("s", { runId: `r${n}`, role: "user", content: `q${n}`, ts: n });
  await store.append("s", { runId: `r${n}`, role: "assistant", content: `a${n}`, ts: n, ...(withSteps ? { steps: steps(n) } : {}) });
}

describe("sessions with tool steps", () => {
  test("historyTurns counts user turns however many tool messages a turn has; a restart reads the steps back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clawdis-steps-"));
    const store = new SessionStore(dir, 2);
    await store.history("s");
    for (let n = 1; n <= 3; n++) await say(store, n, n !== 2);
    const live = await store.history("s");
    expect(live.map((t) => t.user)).toEqual(["q2", "q3"]);
    expect(live[0]!.steps).toBeUndefined();
    expect(live[1]!.steps).toEqual(steps(3));
    // A fresh store (a restart) reads the same turns from the file.
    expect(await new SessionStore(dir, 2).history("s")).toEqual(live);
  });
});
