import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { fastGuard } from "../../src/protocol/fast-guard.ts";
import { ReqSchema } from "../../src/protocol/index.ts";

/** Inputs around every edge ReqSchema has: types, lengths, missing and extra keys, non-objects. */
function* candidates(): Generator<unknown> {
  const strings = ["", "a", "x".repeat(64), "x".repeat(65), "x".repeat(128), "x".repeat(129), "é🙂", 7, null, undefined, true, {}, []];
  const types = ["req", "res", "REQ", "", 1, undefined];
  for (const type of types)
    for (const id of strings)
      for (const method of strings)
        for (const params of [undefined, null, {}, [], "p", { a: 1 }]) {
          const o: Record<string, unknown> = { type, id, method };
          if (params !== undefined) o.params = params;
          yield o;
          yield { ...o, extra: 1 };
        }
  yield* [null, undefined, "req", 42, [], ["req"], Object.create(null)];
}

describe("fastGuard: derived from a valibot object schema, never looser than it", () => {
  test("true only where ReqSchema accepts the input and outputs the input's own fields", () => {
    const guard = fastGuard(ReqSchema)!;
    expect(guard).toBeFunction();
    let accepted = 0;
    let total = 0;
    for (const input of candidates()) {
      total += 1;
      const parsed = v.safeParse(ReqSchema, input);
      if (!guard(input)) continue;
      accepted += 1;
      expect(parsed.success).toBe(true);
      const o = input as Record<string, unknown>;
      expect(parsed.output).toMatchObject({ type: o.type, id: o.id, method: o.method });
      expect((parsed.output as Record<string, unknown>).params).toBe(o.params);
    }
    // The guard is a fast path, not a no-op: it takes every well-formed req in the set.
    const wellFormed = [...candidates()].filter((x) => v.safeParse(ReqSchema, x).success).length;
    expect(accepted).toBe(wellFormed);
    expect(total).toBeGreaterThan(10_000);
  });

  test("follows the schema's own bounds, and strict objects refuse extra keys", () => {
    const schema = v.strictObject({ kind: v.literal("k"), name: v.pipe(v.string(), v.minLength(2), v.maxLength(3)), note: v.optional(v.string()) });
    const guard = fastGuard(schema)!;
    expect(guard({ kind: "k", name: "ab" })).toBe(true);
    expect(guard({ kind: "k", name: "abc", note: "n" })).toBe(true);
    expect(guard({ kind: "k", name: "a" })).toBe(false);
    expect(guard({ kind: "k", name: "abcd" })).toBe(false);
    expect(guard({ kind: "k", name: "ab", note: 1 })).toBe(false);
    expect(guard({ kind: "k", name: "ab", other: 1 })).toBe(false);
  });

  test("schemas outside the subset get no guard (everything goes through valibot)", () => {
    expect(fastGuard(v.object({ n: v.number() }))).toBeNull();
    expect(fastGuard(v.object({ s: v.pipe(v.string(), v.regex(/x/)) }))).toBeNull();
    expect(fastGuard(v.object({ s: v.optional(v.string(), "default") }))).toBeNull();
    expect(fastGuard(v.pipe(v.object({ s: v.string() }), v.check(() => true)))).toBeNull();
    expect(fastGuard(v.string())).toBeNull();
    // Checks piped onto a field that is not a string (a pipe keeps its first schema's type).
    expect(fastGuard(v.object({ p: v.pipe(v.unknown(), v.check((x) => x !== 1)) }))).toBeNull();
    expect(fastGuard(v.object({ k: v.pipe(v.literal("a"), v.check(() => false)) }))).toBeNull();
    expect(fastGuard(v.object({ o: v.pipe(v.optional(v.string()), v.check(() => false)) }))).toBeNull();
  });
});
