import * as v from "valibot";

/** A validation failure, reduced to what a message needs: where, what was wanted, what came. */
export interface IssueReport {
  /** Dot path of the failing field under `root` (`root` itself when the value as a whole failed). */
  field: string;
  expected: string | null;
  received: string | null;
  /** `unknown key`: a strict object met a key it does not know. */
  unknownKey: boolean;
  /** `<field>: expected <expected>, got <received>` (or `<field>: unknown key`). */
  text: string;
}

/**
 * The one formatter for valibot issues, shared by the gateway's frame and params checks,
 * the WebChat relay and the config loader, so every "bad input" message reads the same.
 * `root` names the value (`hello`, `params`, …); with `nested` the path is appended to it
 * (`params.to`), otherwise it replaces it (`client.name`).
 */
export function describeIssue(issue: v.BaseIssue<unknown> | undefined, root: string, nested = false): IssueReport {
  const path = issue ? v.getDotPath(issue) : null;
  const field = path ? (nested ? `${root}.${path}` : path) : root;
  const unknownKey = issue?.type === "strict_object" && issue.expected === "never";
  const expected = issue ? (issue.expected ?? issue.type) : null;
  const received = issue?.received ?? null;
  const text = unknownKey ? `${field}: unknown key` : `${field}: expected ${expected ?? "valid value"}, got ${received}`;
  return { field, expected, received, unknownKey, text };
}
