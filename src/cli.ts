#!/usr/bin/env bun
import { defineCommand, runCommand, showUsage } from "citty";
import { COMMIT, VERSION } from "./version.ts";

const main = defineCommand({
  meta: {
    name: "clawdis",
    version: `${VERSION} (${COMMIT})`,
    description:
      "Gateway daemon for a personal messaging assistant.\n\n" +
      "Examples:\n" +
      "  clawdis gateway                 # start the daemon on 127.0.0.1:18789\n" +
      "  clawdis gateway status          # ask the running gateway\n" +
      "  clawdis health --json           # its health, as JSON\n" +
      "  clawdis login                   # link WhatsApp (QR code in the terminal)\n" +
      "  clawdis webchat --url ws://127.0.0.1:18789   # the chat page alone, for a gateway elsewhere\n" +
      "  clawdis --version\n\n" +
      "Exit codes: 0 ok, 1 failure or gateway error, 2 usage/config error, 3 cannot connect / handshake refused.",
  },
  subCommands: {
    gateway: () => import("./cli/gateway.ts").then((m) => m.default),
    health: () => import("./cli/health.ts").then((m) => m.default),
    login: () => import("./cli/login.ts").then((m) => m.login),
    logout: () => import("./cli/login.ts").then((m) => m.logout),
    webchat: () => import("./cli/webchat.ts").then((m) => m.default),
    pairing: () => import("./cli/pairing.ts").then((m) => m.default),
  },
});

/** Resolve the command a help request is about (citty's own walk). */
async function helpTarget(argv: string[]) {
  type Cmd = typeof main;
  let cmd: Cmd = main;
  let parent: Cmd | undefined;
  for (const word of argv) {
    if (word.startsWith("-")) continue;
    const subs = (await (typeof cmd.subCommands === "function" ? cmd.subCommands() : cmd.subCommands)) as
      | Record<string, () => Promise<Cmd>>
      | undefined;
    const next = subs?.[word];
    if (!next) break;
    parent = cmd;
    cmd = await next();
  }
  return [cmd, parent] as const;
}

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  const [cmd, parent] = await helpTarget(argv);
  await showUsage(cmd, parent);
} else if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  console.log(`${VERSION} (${COMMIT})`);
} else {
  try {
    await runCommand(main, { rawArgs: argv });
  } catch (err) {
    // citty's own errors are usage errors: wrong command, missing required flag.
    const e = err as { code?: string; message?: string; name?: string };
    if ((err as Error).name === "CLIError" || e.code === "EARG" || e.code?.startsWith("E_")) {
      const [cmd, parent] = await helpTarget(argv);
      await showUsage(cmd, parent);
      console.error(`clawdis: ${e.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  }
}
