import { defineCommand } from "citty";
import { handled, parsePort } from "./errors.ts";

/** `clawdis gateway`: run the daemon. Heavy modules load inside `run`, so `--help` stays fast. */
export default defineCommand({
  meta: {
    name: "gateway",
    description:
      "Run the gateway daemon (WebSocket control plane on 127.0.0.1:18789).\n\n" +
      "Examples:\n" +
      "  clawdis gateway\n" +
      "  clawdis gateway --port 18789 --verbose\n" +
      "  clawdis gateway --force            # SIGTERM whatever listens on the port first\n" +
      "  CLAWDIS_GATEWAY_TOKEN=s3cret clawdis gateway --bind 0.0.0.0",
  },
  args: {
    port: { type: "string", description: "Port to listen on (config gateway.port, default 18789; 0 = any free port)" },
    bind: { type: "string", description: "Address to bind (config gateway.bind, default 127.0.0.1)" },
    token: { type: "string", description: "Require this token in hello.auth.token (or CLAWDIS_GATEWAY_TOKEN)" },
    config: { type: "string", description: "Config file (default <state>/clawdis.json)" },
    verbose: { type: "boolean", description: "Mirror debug logs (handshakes, req/res, events) to stdout" },
    force: { type: "boolean", description: "Kill listeners on the port (via lsof) before starting" },
  },
  run: ({ args }) =>
    handled(async () => {
      const { runGateway } = await import("./gateway-run.ts");
      await runGateway({
      port: parsePort(args.port),
      bind: args.bind,
      token: args.token,
      config: args.config,
      verbose: Boolean(args.verbose),
        force: Boolean(args.force),
      });
    }),
});
