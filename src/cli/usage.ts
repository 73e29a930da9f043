import type { ArgDef, CommandDef } from "citty";

/** Help text fits a classic terminal; only a single token longer than this may overflow. */
export const HELP_WIDTH = 80;
const GAP = "  ";

type AnyCommand = CommandDef<any>;
type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);

async function resolve<T>(value: Resolvable<T> | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Word-wrap `text` to `width`, every line after the first indented by `hang` spaces. */
export function wrap(text: string, width: number, hang = 0): string[] {
  return wrapWords(text.split(/\s+/).filter(Boolean), width, hang);
}

function wrapWords(words: string[], width: number, hang: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    const room = width - (lines.length === 0 ? 0 : hang);
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : " ".repeat(hang) + l));
}

/** Two columns: names padded to the widest (capped), descriptions wrapped under themselves. */
function table(rows: Array<[string, string]>, width: number): string[] {
  const nameWidth = Math.min(Math.max(...rows.map(([n]) => n.length)), 28);
  const out: string[] = [];
  for (const [name, text] of rows) {
    const indent = GAP.length + nameWidth + GAP.length;
    if (name.length > nameWidth) {
      // A long flag gets its own line; its description starts under the column.
      out.push(GAP + name);
      out.push(...wrap(text, width - indent).map((l) => " ".repeat(indent) + l));
      continue;
    }
    const [first = "", ...rest] = wrap(text, width - indent);
    out.push(`${GAP}${name.padEnd(nameWidth)}${GAP}${first}`.trimEnd());
    out.push(...rest.map((l) => " ".repeat(indent) + l));
  }
  return out;
}

/** Shell words of a line: split at spaces outside quotes, so a continuation never lands in a string. */
function shellWords(line: string): string[] {
  return line.trim().match(/(?:'[^']*'|"(?:\\.|[^"\\])*"|\S)+/g) ?? [];
}

/**
 * One example line. `cmd   # why` that does not fit puts the comment on its own line
 * above; a command still too long is continued with a shell backslash between words.
 */
function example(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const indent = /^\s*/.exec(line)![0];
  const m = /^\s*(.*?)\s+#\s(.*)$/.exec(line);
  if (m) return [...wrap(m[2]!, width - indent.length - 2).map((l) => `${indent}# ${l}`), ...example(indent + m[1]!, width)];
  const lines = wrapWords(shellWords(line), width - indent.length - 2, 2);
  return lines.map((l, i) => indent + l + (i < lines.length - 1 ? " \\" : ""));
}

/** The command `argv` asks help for, and the words that reach it (citty's own walk). */
export async function helpTarget(root: AnyCommand, argv: string[]): Promise<{ cmd: AnyCommand; path: string[] }> {
  let cmd = root;
  const path = [(await resolve(root.meta))?.name ?? "clawdis"];
  for (const word of argv) {
    if (word.startsWith("-")) continue;
    const subs = (await resolve(cmd.subCommands)) as Record<string, Resolvable<AnyCommand>> | undefined;
    const next = subs?.[word];
    if (!next) break;
    cmd = (await resolve(next))!;
    path.push(word);
  }
  return { cmd, path };
}

/** A command's description split into its prose, its examples and what follows them. */
export function splitDescription(description = ""): { prose: string[]; examples: string[]; after: string[] } {
  const prose: string[] = [];
  const examples: string[] = [];
  const after: string[] = [];
  for (const para of description.split(/\n\s*\n/)) {
    if (/^Examples:/.test(para)) examples.push(...para.split("\n").slice(1));
    else (examples.length > 0 ? after : prose).push(para);
  }
  return { prose, examples, after };
}

/** The one-line summary shown for a command in its parent's table. */
function summary(description = ""): string {
  return splitDescription(description).prose[0]?.split("\n")[0] ?? "";
}

function valueHint(name: string, arg: ArgDef): string {
  if (arg.type === "boolean" || arg.type === "positional") return "";
  // `--timeout-seconds <seconds>`: the last word of the flag names the value well enough.
  return ` <${(arg as { valueHint?: string }).valueHint ?? name.split("-").at(-1)}>`;
}

function argRows(args: Record<string, ArgDef>): { options: Array<[string, string]>; positionals: Array<[string, string]>; usage: string[] } {
  const options: Array<[string, string]> = [];
  const positionals: Array<[string, string]> = [];
  const usage: string[] = [];
  for (const [name, arg] of Object.entries(args)) {
    const notes = [
      arg.description ?? "",
      arg.required === true && arg.default === undefined ? "(required)" : "",
      arg.default !== undefined && arg.type !== "boolean" ? `(default: ${String(arg.default)})` : "",
    ];
    const text = notes.filter(Boolean).join(" ");
    if (arg.type === "positional") {
      const required = arg.required !== false && arg.default === undefined;
      positionals.push([name.toUpperCase(), text]);
      usage.push(required ? `<${name.toUpperCase()}>` : `[${name.toUpperCase()}]`);
      continue;
    }
    const alias = ((arg as { alias?: string | string[] }).alias ?? []) as string | string[];
    const flags = [...(Array.isArray(alias) ? alias : [alias]).map((a) => `-${a}`), `--${name}`].join(", ");
    options.push([flags + valueHint(name, arg), text]);
    if (arg.type === "boolean" && arg.default === true) options.push([`--no-${name}`, `Turn --${name} off`]);
    if (arg.required === true) usage.push(`--${name}${valueHint(name, arg)}`);
  }
  return { options, positionals, usage };
}

/**
 * `--help` for a command, plain text within `width` columns: what it does, usage, its
 * subcommands (one line each), options, then the examples and notes from its description.
 * `path` is the command line that reaches it (`["clawdis", "gateway", "send"]`).
 */
export async function renderHelp(cmd: AnyCommand, path: string[], width = HELP_WIDTH): Promise<string> {
  const meta = (await resolve(cmd.meta)) ?? {};
  const name = path.join(" ");
  const { prose, examples, after } = splitDescription(meta.description);
  const { options, positionals, usage } = argRows(((await resolve(cmd.args)) ?? {}) as Record<string, ArgDef>);

  const commands: Array<[string, string]> = [];
  const subs = (await resolve(cmd.subCommands)) as Record<string, Resolvable<AnyCommand>> | undefined;
  for (const [sub, load] of Object.entries(subs ?? {})) {
    const subMeta = await resolve((await resolve(load))?.meta);
    if (!subMeta?.hidden) commands.push([sub, summary(subMeta?.description)]);
  }

  const out: string[] = [];
  for (const para of prose) {
    for (const line of para.split("\n")) out.push(...wrap(line, width));
    out.push("");
  }
  const usageLine = [name, commands.length > 0 ? "[command]" : "", options.length > 0 ? "[options]" : "", ...usage];
  out.push("Usage:", ...wrap(usageLine.filter(Boolean).join(" "), width - 2, 4).map((l) => GAP + l), "");
  const section = (title: string, rows: Array<[string, string]>) => {
    if (rows.length > 0) out.push(`${title}:`, ...table(rows, width), "");
  };
  section("Arguments", positionals);
  section("Commands", commands);
  section("Options", [...options, ["-h, --help", "Show this help"]]);
  if (examples.length > 0) out.push("Examples:", ...examples.flatMap((l) => example(l, width)), "");
  for (const para of after) {
    for (const line of para.split("\n")) out.push(...wrap(line, width));
    out.push("");
  }
  if (meta.version) out.push(`Version: ${meta.version}`);
  if (commands.length > 0) out.push(`Run \`${name} <command> --help\` for a command's own options.`);
  while (out.at(-1) === "") out.pop();
  return out.map((l) => l.trimEnd()).join("\n");
}
