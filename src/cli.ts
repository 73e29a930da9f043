#!/usr/bin/env bun
import { defineCommand, runMain } from "citty";
import { COMMIT, VERSION } from "./version.ts";

const main = defineCommand({
  meta: {
    name: "clawdis",
    version: `${VERSION} (${COMMIT})`,
    description:
      "Gateway daemon for a personal messaging assistant.\n\n" +
      "Examples:\n" +
      "  clawdis gateway                 # start the daemon on 127.0.0.1:18789\n" +
      "  clawdis health --json           # ask the running gateway for its health\n" +
      "  clawdis --version",
  },
  subCommands: {
    gateway: () => import("./cli/gateway.ts").then((m) => m.default),
    health: () => import("./cli/health.ts").then((m) => m.default),
  },
});

await runMain(main);
