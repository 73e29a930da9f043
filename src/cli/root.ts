import { defineCommand } from "citty";
import { COMMIT, VERSION } from "../version.ts";

/** The `clawdis` command tree; subcommands load their bodies only when they run. */
export const main = defineCommand({
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
      "  clawdis doctor --fix            # find and repair what is wrong\n" +
      "  clawdis --version\n\n" +
      "Exit codes: 0 ok, 1 failure or gateway error, 2 usage/config error, 3 cannot connect / handshake refused.",
  },
  subCommands: {
    gateway: () => import("./gateway.ts").then((m) => m.default),
    health: () => import("./health.ts").then((m) => m.default),
    login: () => import("./login.ts").then((m) => m.login),
    logout: () => import("./login.ts").then((m) => m.logout),
    webchat: () => import("./webchat.ts").then((m) => m.default),
    doctor: () => import("./doctor.ts").then((m) => m.default),
    pairing: () => import("./pairing.ts").then((m) => m.default),
  },
});
