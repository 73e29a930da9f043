import type { AgentBackend } from "../types.ts";

/** Splits text into at most `parts` chunks on word boundaries where it can. */
export function chunkText(text: string, parts: number): string[] {
  if (text.length === 0) return [];
  const size = Math.ceil(text.length / parts);
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    let cut = Math.min(size, rest.length);
    if (cut < rest.length) {
      const space = rest.lastIndexOf(" ", cut);
      if (space > 0) cut = space + 1;
    }
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  return chunks;
}

/** Replies with the message itself, streamed as a few `assistant` deltas. For demos and tests. */
export function echoBackend(): AgentBackend {
  return {
    name: "echo",
    async run(turn, emit, signal) {
      for (const delta of chunkText(turn.message, 4)) {
        if (signal.aborted) throw signal.reason;
        emit("assistant", { delta });
        // Yield between deltas so they go out as separate frames, like a real stream.
        await new Promise((r) => setImmediate(r));
      }
      return { summary: turn.message };
    },
  };
}
