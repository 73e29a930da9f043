/** `--help` reads cleanly at 80 columns for every command (issue 15, point 8). */
import { describe, expect, test } from "bun:test";
import type { CommandDef } from "citty";
import { main } from "../../src/cli/root.ts";
import { HELP_WIDTH, helpTarget, renderHelp, splitDescription, wrap } from "../../src/cli/usage.ts";
import { runCli } from "../helpers/gateway.ts";

/** Every command path in the tree, found by walking it (a new subcommand is covered unasked). */
async function allPaths(cmd: CommandDef<any> = main, path: string[] = []): Promise<string[][]> {
  const out = [path];
  const subs = typeof cmd.subCommands === "function" ? await cmd.subCommands() : await cmd.subCommands;
  for (const [name, load] of Object.entries(subs ?? {})) {
    const sub = (typeof load === "function" ? await (load as () => Promise<CommandDef<any>>)() : await load) as CommandDef<any>;
    out.push(...(await allPaths(sub, [...path, name])));
  }
  return out;
}

/** The layout rules: within 80 columns unless a line is one unbreakable token, no trailing spaces. */
function layoutProblems(text: string): string[] {
  const problems: string[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (/\s$/.test(line)) problems.push(`line ${i + 1} ends in whitespace: ${JSON.stringify(line)}`);
    if (line.length > HELP_WIDTH && line.trim().split(/\s+/).length > 1) problems.push(`line ${i + 1} is ${line.length} columns: ${line}`);
    if (/\x1b\[/.test(line)) problems.push(`line ${i + 1} has an escape sequence`);
  }
  return problems;
}

const paths = await allPaths();

describe("CLI help: every command's usage fits 80 columns, no trailing spaces, examples below the table", () => {
  test("the walk found the whole tree", () => {
    expect(paths.map((p) => p.join(" "))).toEqual(expect.arrayContaining(["", "gateway", "gateway send", "gateway install", "login", "logout", "webchat"]));
    expect(paths.length).toBeGreaterThanOrEqual(14);
  });

  for (const path of paths) {
    test(`clawdis ${path.join(" ")} --help`.replace("  ", " "), async () => {
      const { cmd, path: words } = await helpTarget(main, path);
      expect(words).toEqual(["clawdis", ...path]);
      const text = await renderHelp(cmd, words);
      expect(layoutProblems(text)).toEqual([]);
      expect(text).toContain(`Usage:\n  ${words.join(" ")}`);
      // Examples come after the option and command tables, never inside them.
      const examples = text.indexOf("\nExamples:\n");
      expect(examples).toBeGreaterThan(text.indexOf("\nOptions:\n"));
      // Above the examples, the only command line is the usage line.
      expect(text.slice(0, examples).split("\n").filter((l) => l.startsWith("  clawdis ")).length).toBe(1);
      // A subcommand's row in the table is its one-line summary, not its examples.
      const table = text.slice(text.indexOf("\nCommands:\n"), text.indexOf("\nOptions:\n"));
      if (text.includes("\nCommands:\n")) expect(table).not.toContain("Examples");
    });
  }

  test("the compiled binary prints the same layout for every command", async () => {
    for (const path of paths) {
      const res = await runCli([...path, "--help"]);
      expect(res.code).toBe(0);
      expect({ path, problems: layoutProblems(res.stdout.trimEnd()) }).toEqual({ path, problems: [] });
      expect(res.stdout).toContain("Examples:");
    }
  });

  test("a usage error prints the command's help on stderr, then the error, exit 2", async () => {
    const res = await runCli(["gateway", "send", "--to", "+1555"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Usage:\n  clawdis gateway send");
    expect(layoutProblems(res.stderr.trimEnd())).toEqual([]);
  });
});

describe("the renderer's rules", () => {
  test("wrap keeps words whole, hangs continuation lines, lets one over-long token overflow alone", () => {
    expect(wrap("aaa bbb ccc ddd", 8, 2)).toEqual(["aaa bbb", "  ccc", "  ddd"]);
    const long = "x".repeat(100);
    expect(wrap(`a ${long} b`, 20)).toEqual(["a", long, "b"]);
  });

  test("a long example moves its comment above; a long command continues with a backslash outside quotes", async () => {
    const cmd = {
      meta: {
        name: "demo",
        description:
          "Demo.\n\nExamples:\n" +
          `  demo run --flag value   # ${"because ".repeat(6).trim()}\n` +
          `  demo call --params '{"text":"a b c d e f g h i j k l m n o p"}' --url ws://127.0.0.1:18789 --json`,
      },
    } as CommandDef<any>;
    const text = await renderHelp(cmd, ["demo"], 60);
    expect(layoutProblems(text).length).toBe(0);
    expect(text).toContain(`  # ${"because ".repeat(6).trim()}\n  demo run --flag value\n`);
    expect(text).toContain(`  demo call --params \\\n    '{"text":"a b c d e f g h i j k l m n o p"}' --url \\\n    ws://127.0.0.1:18789 --json`);
    for (const line of text.split("\n")) expect(line.length).toBeLessThanOrEqual(60);
  });

  test("descriptions split into prose, examples and the notes after them", () => {
    expect(splitDescription("One.\nTwo.\n\nExamples:\n  x\n  y\n\nExit codes: 0.")).toEqual({
      prose: ["One.\nTwo."],
      examples: ["  x", "  y"],
      after: ["Exit codes: 0."],
    });
  });
});
