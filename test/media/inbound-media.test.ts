/** Issue 16 §5 below the providers: the media store's bounds and modes, and what each agent backend is given. */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fillTemplate } from "../../src/agent/backends/command.ts";
import { openAiBackend } from "../../src/agent/backends/openai.ts";
import { InboundMediaStore, responseSource, takeMedia } from "../../src/media/index.ts";
import { silentLogger } from "../../src/log.ts";
import { startFakeOpenAi } from "../helpers/fake-openai.ts";

const dir = () => join(mkdtempSync(join(tmpdir(), "clawdis-media-")), "media", "inbound");

describe("InboundMediaStore", () => {
  test("files 0600 in a 0700 directory; the type or the sender's name gives the extension", async () => {
    const store = new InboundMediaStore(dir(), () => ({ maxInboundBytes: 100, maxTotalBytes: 1_000 }));
    const a = await store.save({ kind: "image", mime: "image/png", data: new Uint8Array(10) });
    const b = await store.save({ kind: "document", mime: "application/octet-stream", data: new Uint8Array(5), name: "Report.PDF" });
    expect(a).toMatchObject({ kind: "image", mime: "image/png", bytes: 10 });
    expect(a.path.endsWith(".png")).toBe(true);
    expect(b.path.endsWith(".pdf")).toBe(true);
    expect(statSync(a.path).mode & 0o777).toBe(0o600);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
  });

  test("maxTotalBytes: the oldest files are removed first, counting files left by an earlier run", async () => {
    const d = dir();
    const first = new InboundMediaStore(d, () => ({ maxInboundBytes: 1_000, maxTotalBytes: 250 }));
    const old = await first.save({ kind: "image", mime: "image/jpeg", data: new Uint8Array(100) });
    await Bun.sleep(5);
    const mid = await first.save({ kind: "image", mime: "image/jpeg", data: new Uint8Array(100) });
    // A restart: the new store reads what is there.
    const store = new InboundMediaStore(d, () => ({ maxInboundBytes: 1_000, maxTotalBytes: 250 }));
    const next = await store.save({ kind: "audio", mime: "audio/ogg", data: new Uint8Array(100) });
    expect(existsSync(old.path)).toBe(false);
    expect(existsSync(mid.path)).toBe(true);
    expect(existsSync(next.path)).toBe(true);
    expect(readdirSync(d).length).toBe(2);
  });

  test("pruning never removes a file younger than the run timeout (a running turn may read it); it goes once old enough", async () => {
    const d = dir();
    let minAge = 60_000;
    const store = new InboundMediaStore(d, () => ({ maxInboundBytes: 1_000, maxTotalBytes: 150 }), () => minAge);
    const a = await store.save({ kind: "image", mime: "image/jpeg", data: new Uint8Array(100) });
    const b = await store.save({ kind: "image", mime: "image/jpeg", data: new Uint8Array(100) });
    // Over the total, but both are younger than the run timeout: both stay.
    expect(existsSync(a.path)).toBe(true);
    expect(existsSync(b.path)).toBe(true);
    minAge = 0;
    await Bun.sleep(2);
    const c = await store.save({ kind: "image", mime: "image/jpeg", data: new Uint8Array(100) });
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(b.path)).toBe(false);
    expect(existsSync(c.path)).toBe(true);
  });

  test("takeMedia: over maxInboundBytes (announced or found while reading) is `media too large`, and nothing is saved", async () => {
    const d = dir();
    const store = new InboundMediaStore(d, () => ({ maxInboundBytes: 50, maxTotalBytes: 1_000 }));
    let opened = 0;
    const announced = await takeMedia(store, { kind: "video", mime: "video/mp4", size: 51, open: async (max) => (opened++, responseSource(new Response(new Uint8Array(51)), max)) });
    // What it was stays known, so the agent can be told of the file it did not get (issue 21 §6).
    expect(announced).toEqual({ mediaSkipped: "media too large", oversized: { kind: "video", bytes: 51 } });
    expect(opened).toBe(0);
    const found = await takeMedia(store, { kind: "video", mime: "video/mp4", open: async (max) => responseSource(new Response(new Uint8Array(80)), max) });
    expect(found).toEqual({ mediaSkipped: "media too large", oversized: { kind: "video" } });
    expect(existsSync(d) ? readdirSync(d) : []).toEqual([]);
    const ok = await takeMedia(store, { kind: "video", mime: "video/mp4", open: async (max) => responseSource(new Response(new Uint8Array(50)), max) });
    expect(ok.media?.[0]).toMatchObject({ kind: "video", bytes: 50 });
  });

  /** A download that never ends (or stalls after `stallAfter` chunks) of 64 KiB chunks; counts what was read and whether it was cancelled. */
  function endless(stallAfter = Number.POSITIVE_INFINITY) {
    const state = { chunks: 0, cancelled: false };
    const chunks = (async function* () {
      for (;;) {
        if (state.cancelled) return;
        if (state.chunks >= stallAfter) await new Promise(() => {});
        state.chunks++;
        yield new Uint8Array(64 * 1024).fill(1);
      }
    })();
    return { state, source: { chunks, cancel: () => (state.cancelled = true) } };
  }

  test("a file over the cap is streamed to a temp file, cut off at the cap and removed: never held whole, never saved", async () => {
    const d = dir();
    const max = 1024 * 1024;
    const store = new InboundMediaStore(d, () => ({ maxInboundBytes: max, maxTotalBytes: 100 * max }));
    const { state, source } = endless();
    // The source is endless: only a download stopped at the cap can return at all.
    const out = await takeMedia(store, { kind: "document", mime: "application/pdf", open: async () => source });
    expect(out).toEqual({ mediaSkipped: "media too large", oversized: { kind: "document" } });
    expect(state.cancelled).toBe(true);
    expect(state.chunks).toBe(max / (64 * 1024) + 1);
    expect(readdirSync(d)).toEqual([]);
  });

  test("a file within the cap goes through a 0600 temp file renamed into place, byte for byte", async () => {
    const d = dir();
    const store = new InboundMediaStore(d, () => ({ maxInboundBytes: 1024 * 1024, maxTotalBytes: 10 * 1024 * 1024 }));
    const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    const out = await takeMedia(store, { kind: "image", mime: "image/png", open: async (max) => responseSource(new Response(data), max) });
    const saved = out.media![0]!;
    expect(saved.bytes).toBe(300_000);
    expect(new Uint8Array(readFileSync(saved.path))).toEqual(data);
    expect(statSync(saved.path).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual([saved.path.split("/").pop()!]);
  });

  test("a download that stalls is given up after its timeout: the stream is cancelled and the partial file removed", async () => {
    const d = dir();
    const store = new InboundMediaStore(d, () => ({ maxInboundBytes: 10 * 1024 * 1024, maxTotalBytes: 100 * 1024 * 1024 }));
    const { state, source } = endless(3);
    const started = Date.now();
    const err = await takeMedia(store, { kind: "video", mime: "video/mp4", open: async () => source }, 300).catch((e: Error) => e);
    expect(String(err)).toContain("the download took longer than 0.3 s");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(state.cancelled).toBe(true);
    expect(state.chunks).toBe(3);
    expect(readdirSync(d)).toEqual([]);
  });

  test("a temp file left by a crash mid-download is removed when the store starts", async () => {
    const d = dir();
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "1-a-b.jpg.123.tmp"), new Uint8Array(10));
    const store = new InboundMediaStore(d, () => ({ maxInboundBytes: 100, maxTotalBytes: 1_000 }));
    await store.save({ kind: "image", mime: "image/jpeg", data: new Uint8Array(3) });
    expect(readdirSync(d).some((n) => n.endsWith(".tmp"))).toBe(false);
  });
});

describe("what the agent backends get", () => {
  const media = (d: string) => {
    const img = join(d, "cat.png");
    writeFileSync(img, new Uint8Array([137, 80, 78, 71]));
    return [
      { kind: "image" as const, mime: "image/png", bytes: 4, path: img },
      { kind: "audio" as const, mime: "audio/ogg", bytes: 1234, path: join(d, "voice.ogg") },
    ];
  };

  test("command: {{media}} is the JSON array of {kind, mime, bytes, path}; [] without files", () => {
    const files = media(mkdtempSync(join(tmpdir(), "clawdis-cmd-")));
    const turn = { runId: "r", message: "hi", sessionId: "s", history: [], media: files };
    expect(JSON.parse(fillTemplate("{{media}}", turn))).toEqual(files);
    expect(fillTemplate("x={{media}}", { ...turn, media: undefined } as never)).toBe("x=[]");
  });

  test("openai: images as image inputs (data URLs), other files as a short note", async () => {
    const api = startFakeOpenAi(() => "seen");
    try {
      const files = media(mkdtempSync(join(tmpdir(), "clawdis-oai-")));
      const backend = openAiBackend({ baseUrl: api.url, model: "good", log: silentLogger });
      const out = await backend.run({ runId: "r", message: "what is this?", sessionId: "s", history: [], media: files }, () => {}, new AbortController().signal);
      expect(out.summary).toBe("seen");
      expect(api.requests[0]!.body.messages.at(-1)).toEqual({
        role: "user",
        content: [
          { type: "text", text: "what is this?\n[attached audio: audio/ogg, 1234 bytes]" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${Buffer.from([137, 80, 78, 71]).toString("base64")}` } },
        ],
      });
      // Without files the content stays a plain string, as before.
      await backend.run({ runId: "r2", message: "plain", sessionId: "s", history: [] }, () => {}, new AbortController().signal);
      expect(api.requests[1]!.body.messages.at(-1)).toEqual({ role: "user", content: "plain" });
    } finally {
      api.stop();
    }
  });
});
