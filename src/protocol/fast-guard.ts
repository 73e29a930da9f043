import type * as v from "valibot";

/**
 * A predicate derived from a valibot object schema: `true` only for input the schema accepts
 * as it is (the output's fields are the input's own values), so a hot path may read the
 * input's fields without running the schema. `false` means "not sure": run the schema, which
 * stays the single source of truth and gives the error. Only a small subset is understood
 * (objects of literals, strings with length checks, optional values without defaults,
 * unknown); for any other schema `fastGuard` returns null and every input goes through valibot.
 */
export type FastGuard = (input: unknown) => boolean;

type Check = (value: unknown) => boolean;

interface SchemaLike {
  kind: string;
  type: string;
  literal?: unknown;
  entries?: Record<string, SchemaLike>;
  wrapped?: SchemaLike;
  default?: unknown;
  pipe?: readonly SchemaLike[];
  requirement?: unknown;
}

/** One field's check, or null when the schema is outside the subset. */
function checkOf(schema: SchemaLike): Check | null {
  // A pipe keeps its first schema's type: checks piped onto anything but a string are not read here.
  if (schema.pipe && schema.type !== "string") return null;
  if (schema.type === "unknown" || schema.type === "any") return () => true;
  if (schema.type === "literal") {
    const literal = schema.literal;
    return (x) => x === literal;
  }
  if (schema.type === "optional") {
    // A default would make the output differ from the input.
    if (schema.default !== undefined || !schema.wrapped) return null;
    const inner = checkOf(schema.wrapped);
    return inner && ((x) => x === undefined || inner(x));
  }
  if (schema.type === "string") {
    let min = 0;
    let max = Infinity;
    for (const action of schema.pipe?.slice(1) ?? []) {
      if (action.kind !== "validation" || typeof action.requirement !== "number") return null;
      if (action.type === "min_length") min = Math.max(min, action.requirement);
      else if (action.type === "max_length") max = Math.min(max, action.requirement);
      else return null;
    }
    return (x) => typeof x === "string" && x.length >= min && x.length <= max;
  }
  return null;
}

/** The guard of an object schema (`object`, `looseObject`, `strictObject`), or null. */
export function fastGuard(schema: v.GenericSchema): FastGuard | null {
  const s = schema as unknown as SchemaLike;
  if (s.pipe || !s.entries || !["object", "loose_object", "strict_object"].includes(s.type)) return null;
  const fields: [string, Check][] = [];
  for (const [key, entry] of Object.entries(s.entries)) {
    const check = checkOf(entry);
    if (!check) return null;
    fields.push([key, check]);
  }
  const strict = s.type === "strict_object";
  const known = new Set(fields.map(([key]) => key));
  return (input) => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return false;
    const o = input as Record<string, unknown>;
    for (let i = 0; i < fields.length; i++) {
      const [key, check] = fields[i]!;
      if (!check(o[key])) return false;
    }
    if (strict) for (const key in o) if (!known.has(key)) return false;
    return true;
  };
}
