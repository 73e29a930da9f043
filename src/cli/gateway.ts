import { defineCommand } from "citty";
import { handled, parsePort } from "./errors.ts";

/** Helpers that talk to a running gateway; they never start one. */
const subCommands = {
  health: () => import("./health.ts").then((m) => m.default),
  status: () => import("./status.ts").then((m) => m.default),
  send: () => import("./send.ts").then((m) => m.default),
  agent: () => import("./agent.ts").then((m) => m.default),
  call: () => import("./call.ts").then((m) => m.default),
  trace: () => import("./trace.ts").then((m) => m.default),
  reload: () => import("./reload.ts").then((m) => m.default),
  logs: () => import("./logs.ts").then((m) => m.default),
  install: () => import("./install.ts").then((m) => m.install),
  uninstall: () => import("./install.ts").then((m) => m.uninstall),
};

/** `clawdis gateway`: run the daemon, or (with a subcommand) talk to the running one. */
export default defineCommand({
  meta: {
    name: "gateway",
    description:
      "Run the gateway daemon (WebSocket control plane on 127.0.0.1:18789), or talk to a running one.\n\n" +
      "Examples:\n" +
      "  clawdis gateway\n" +
      "  clawdis gateway --port 18789 --verbose\n" +
      "  clawdis gateway --force            # SIGTERM whatever listens on the port first\n" +
      "  CLAWDIS_GATEWAY_TOKEN=s3cret clawdis gateway --bind 0.0.0.0\n" +
      "  clawdis gateway status\n" +
      '  clawdis gateway agent --message "hi"\n' +
      "  clawdis gateway install --systemd --print",
  },
  args: {
    port: { type: "string", description: "Port to listen on (config gateway.port, default 18789; 0 = any free port)" },
    bind: { type: "string", description: "Address to bind (config gateway.bind, default 127.0.0.1)" },
    token: { type: "string", description: "Require this token in hello.auth.token (or CLAWDIS_GATEWAY_TOKEN)" },
    config: { type: "string", description: "Config file (default <state>/clawdis.json)" },
    verbose: { type: "boolean", description: "Mirror debug logs (handshakes, req/res, events) to stdout" },
    force: { type: "boolean", description: "Kill listeners on the port (via lsof) before starting" },
    "webchat-port": { type: "string", description: "WebChat port (config webchat.port, default 18788; 0 = any free port)" },
  },
  subCommands,
  run: ({ args }) =>
    handled(async () => {
      // citty runs this after a subcommand too; the daemon starts only without one.
      if (args._.length > 0) return;
      const { runGateway } = await import("./gateway-run.ts");
      await runGateway({
        port: parsePort(args.port),
        bind: args.bind,
        token: args.token,
        config: args.config,
        verbose: Boolean(args.verbose),
        force: Boolean(args.force),
        webchatPort: parsePort(args["webchat-port"], "--webchat-port"),
      });
    }),
});
