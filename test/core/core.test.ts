/** The shared core: one copy each of the small helpers every room uses. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomic, writeAtomicSync } from "../../src/core/atomic.ts";
import { backoffDelay } from "../../src/core/backoff.ts";
import { clipUtf8, utf8Length } from "../../src/core/bytes.ts";
import { dialHost, isAddrInUse, isLoopback, urlHost } from "../../src/core/net.ts";
import { secretEquals } from "../../src/core/secret.ts";
import { tempStateDir } from "../helpers/gateway.ts";

describe("net", () => {
  test("isLoopback: localhost, 127/8 and ::1 (bracketed or not); nothing else", () => {
    for (const h of ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]", "::ffff:127.0.0.1"]) expect({ h, ok: isLoopback(h) }).toEqual({ h, ok: true });
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.evil.com", "127.0.0.1.nip.io", ""]) expect({ h, ok: isLoopback(h) }).toEqual({ h, ok: false });
  });

  test("isAddrInUse recognises Node's, Bun's and Deno's shapes only", () => {
    expect(isAddrInUse(Object.assign(new Error("listen EADDRINUSE: address already in use"), { code: "EADDRINUSE" }))).toBe(true);
    expect(isAddrInUse({ name: "AddrInUse", message: "Address already in use (os error 98)" })).toBe(true);
    expect(isAddrInUse(new Error("Failed to start server. Is port 80 in use?"))).toBe(false);
    expect(isAddrInUse(Object.assign(new Error("permission denied"), { code: "EACCES" }))).toBe(false);
    expect(isAddrInUse(undefined)).toBe(false);
  });

  test("urlHost brackets IPv6 once; dialHost reaches a wildcard bind on loopback", () => {
    expect(urlHost("::1")).toBe("[::1]");
    expect(urlHost("[::1]")).toBe("[::1]");
    expect(urlHost("fe80::1%eth0")).toBe("[fe80::1%eth0]");
    expect(urlHost("192.168.1.5")).toBe("192.168.1.5");
    expect(dialHost("0.0.0.0")).toBe("127.0.0.1");
    expect(dialHost("::")).toBe("[::1]");
    expect(dialHost("::1")).toBe("[::1]");
    expect(dialHost("10.1.2.3")).toBe("10.1.2.3");
  });
});

describe("secretEquals", () => {
  test("only the exact secret matches; a missing one never does, not even against an empty secret", () => {
    expect(secretEquals("s3cret", "s3cret")).toBe(true);
    expect(secretEquals("s3cret ", "s3cret")).toBe(false);
    expect(secretEquals("s3cre", "s3cret")).toBe(false);
    expect(secretEquals("", "s3cret")).toBe(false);
    expect(secretEquals(undefined, "")).toBe(false);
    expect(secretEquals("", "")).toBe(true);
    expect(secretEquals("ü", "ü")).toBe(true);
  });
});

describe("backoffDelay: exponential with equal jitter", () => {
  const opts = { initialMs: 1_000, maxMs: 30_000 };
  test("the nominal delay doubles up to the ceiling; jitter keeps it in [nominal/2, nominal]", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((a) => backoffDelay(a, opts, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect([0, 1, 5].map((a) => backoffDelay(a, opts, () => 0))).toEqual([500, 1_000, 15_000]);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, opts);
      expect(d).toBeGreaterThanOrEqual(4_000);
      expect(d).toBeLessThanOrEqual(8_000);
    }
    expect(backoffDelay(2, { initialMs: 100, maxMs: 10_000, factor: 3 }, () => 1)).toBe(900);
  });
});

describe("bytes: limits count UTF-8, not UTF-16 units", () => {
  test("utf8Length matches the encoder for ASCII, accents, CJK, emoji and lone surrogates", () => {
    for (const s of ["", "abc", "é", "日本語", "👋🏽", "a\uD800b", "\uDC00"]) expect({ s, n: utf8Length(s) }).toEqual({ s, n: new TextEncoder().encode(s).length });
  });

  test("the browser path (no Buffer) counts the same", () => {
    const saved = globalThis.Buffer;
    const samples = ["", "abc", "é", "日本語", "👋🏽", "a\uD800b", "\uDC00x"];
    const expected = samples.map((s) => new TextEncoder().encode(s).length);
    try {
      (globalThis as { Buffer?: unknown }).Buffer = undefined;
      expect(samples.map(utf8Length)).toEqual(expected);
    } finally {
      globalThis.Buffer = saved;
    }
  });

  test("clipUtf8 never splits a character and stays within the limit", () => {
    expect(clipUtf8("héllo", 2)).toBe("h");
    expect(clipUtf8("héllo", 3)).toBe("hé");
    expect(clipUtf8("👋👋", 5)).toBe("👋");
    expect(clipUtf8("abc", 10)).toBe("abc");
  });
});

describe("atomic write", () => {
  test("replaces content with the given mode, leaves no temp files, creates the directory 0700", async () => {
    const dir = join(tempStateDir(), "deep", "er");
    const path = join(dir, "f.json");
    await writeAtomic(path, "one");
    writeFileSync(path, "old", { mode: 0o644 });
    await Promise.all([writeAtomic(path, "two"), writeAtomic(path, "three")]);
    expect(["two", "three"]).toContain(readFileSync(path, "utf8"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    writeAtomicSync(path, "four", 0o644);
    expect(readFileSync(path, "utf8")).toBe("four");
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(["f.json"]);
  });

  test("a failed write leaves the old file and no temp file behind", async () => {
    const dir = tempStateDir();
    const path = join(dir, "f");
    writeAtomicSync(path, "kept");
    // Renaming onto a directory fails after the temp file was written.
    const target = join(dir, "is-a-dir");
    writeAtomicSync(join(target, "x"), "x");
    await expect(writeAtomic(target, "nope")).rejects.toThrow();
    expect(() => writeAtomicSync(target, "nope")).toThrow();
    expect(readFileSync(path, "utf8")).toBe("kept");
    expect(readdirSync(dir).sort()).toEqual(["f", "is-a-dir"]);
  });
});

describe("visible: control characters from the network are shown, not obeyed (issue 20 §6)", () => {
  test("C0, DEL and C1 become \\xHH; printable text and other Unicode stay", async () => {
    const { visible } = await import("../../src/core/visible.ts");
    expect(visible("a\x1b[2Jb\x07c\x7f\x9bé😀")).toBe("a\\x1b[2Jb\\x07c\\x7f\\x9bé😀");
    expect(visible("one\ntwo\tthree")).toBe("one\\x0atwo\\x09three");
    expect(visible("one\ntwo\tthree\r", { lines: true })).toBe("one\ntwo\tthree\\x0d");
  });
});
