#!/usr/bin/env bun
import { runCommand } from "citty";
import { main } from "./cli/root.ts";
import { COMMIT, VERSION } from "./version.ts";
import { startMark } from "./core/start-trace.ts";

startMark("cli.ts evaluated");

async function printHelp(argv: string[], to: (text: string) => void = console.log): Promise<void> {
  const { helpTarget, renderHelp } = await import("./cli/usage.ts");
  const { cmd, path } = await helpTarget(main, argv);
  to(await renderHelp(cmd, path));
}

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  await printHelp(argv);
} else if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  console.log(`${VERSION} (${COMMIT})`);
} else {
  try {
    await runCommand(main, { rawArgs: argv });
  } catch (err) {
    // citty's own errors are usage errors: wrong command, missing required flag.
    const e = err as { code?: string; message?: string; name?: string };
    if ((err as Error).name === "CLIError" || e.code === "EARG" || e.code?.startsWith("E_")) {
      await printHelp(argv, console.error);
      console.error(`clawdis: ${e.message}`);
      process.exit(2);
    }
    // A file system refusal (a path, a code) is an expected failure: one line, no stack.
    if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code) && typeof (err as NodeJS.ErrnoException).syscall === "string") {
      const path = (err as NodeJS.ErrnoException).path;
      console.error(`clawdis: ${e.message}${path && !e.message?.includes(path) ? ` (${path})` : ""}`);
      process.exit(1);
    }
    console.error(err);
    process.exit(1);
  }
}
