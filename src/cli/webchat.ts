import { clientWebSocket } from "../runtime/websocket.ts";
import { defineCommand } from "citty";
import { CliExit, Exit, handled, parsePort } from "./errors.ts";
import { visible } from "../core/visible.ts";

/** Shutdown must finish within this, whatever hangs. */
const SHUTDOWN_DEADLINE_MS = 3_000;

/** `clawdis webchat`: WebChat alone, relaying to a gateway elsewhere (e.g. through an SSH tunnel). */
export default defineCommand({
  meta: {
    name: "webchat",
    description:
      "Serve WebChat (the chat page on 127.0.0.1:18788) against a running gateway, without starting one.\n" +
      "`clawdis gateway` already serves it beside the gateway; use this for a gateway elsewhere.\n\n" +
      "Examples:\n" +
      "  clawdis webchat\n" +
      "  clawdis webchat --url ws://127.0.0.1:18789 --token s3cret --port 18788\n" +
      "  ssh -N -L 18789:127.0.0.1:18789 me@server & clawdis webchat --url ws://127.0.0.1:18789\n" +
      "  CLAWDIS_GATEWAY_TOKEN=s3cret clawdis webchat --bind 0.0.0.0   # the page asks for the token\n" +
      "  clawdis webchat --link   # a fresh one-time sign-in link for the running gateway's WebChat",
  },
  args: {
    url: { type: "string", description: "Gateway URL (default ws://127.0.0.1:18789)" },
    token: { type: "string", description: "Gateway token (or CLAWDIS_GATEWAY_TOKEN); never sent to the browser" },
    port: { type: "string", description: "WebChat port (default 18788; 0 = any free port)" },
    bind: { type: "string", description: "Address to bind (default 127.0.0.1; anything else requires a token)" },
    verbose: { type: "boolean", description: "Debug logging on stdout" },
    link: {
      type: "boolean",
      description: "Print a fresh one-time sign-in link for the WebChat of the running gateway (token from --token, the environment or the config) and exit",
    },
  },
  run: ({ args }) =>
    handled(async () => {
      if (args.link) return printLink(args);
      const url = args.url ?? "ws://127.0.0.1:18789";
      if (!/^wss?:\/\/[^/]/.test(url)) throw new CliExit(Exit.USAGE, `--url: expected ws://host:port or wss://…, got ${JSON.stringify(url)}`);
      const port = parsePort(args.port) ?? 18788;
      const token = args.token || process.env.CLAWDIS_GATEWAY_TOKEN || undefined;
      const { createLogger } = await import("../log.ts");
      const { createWebChat, WebChatStartError } = await import("../webchat/server.ts");
      const { onSignal } = await import("../runtime/process.ts");
      const log = createLogger({ stdoutLevel: args.verbose ? "debug" : "info", secrets: token ? [token] : [] }).child("webchat");

      let webchat;
      try {
        webchat = createWebChat({
          gatewayUrl: url,
          ...(token ? { token } : {}),
          stateDir: (await import("../paths.ts")).resolveStateDir(),
          bind: args.bind ?? "127.0.0.1",
          port,
          log,
          WebSocket: await clientWebSocket(),
        });
      } catch (err) {
        if (err instanceof WebChatStartError) throw new CliExit(Exit.USAGE, err.message);
        throw err;
      }
      const stop = (reason: string) => {
        log.info(`received ${reason}, stopping`);
        setTimeout(() => process.exit(Exit.OK), SHUTDOWN_DEADLINE_MS).unref?.();
        void webchat.stop().finally(() => process.exit(Exit.OK));
      };
      onSignal("SIGTERM", () => stop("SIGTERM"));
      onSignal("SIGINT", () => stop("SIGINT"));
      try {
        const { url: page } = await webchat.start();
        log.info(`webchat on ${page}`, { gateway: url });
        if (token) (await import("../webchat/server.ts")).printSignInLink(webchat, log);
      } catch (err) {
        if (err instanceof WebChatStartError) throw new CliExit(Exit.FAILURE, err.message);
        throw err;
      }
      log.info(`waiting for the gateway at ${url}`);
      // A refused handshake (wrong token) will not fix itself: say so and exit 3.
      webchat.connected.catch(async (err: Error) => {
        await webchat.stop();
        console.error(`clawdis: handshake refused: ${visible(err.message)}`);
        process.exit(Exit.CONNECT);
      });
    }),
});

/**
 * `--link`: ask the running gateway (it holds the WebChat's sign-in state) for a fresh
 * link. Needs what any client needs: the token, here also read from the state dir's config.
 */
async function printLink(args: { url?: string; token?: string }): Promise<void> {
  const { loadConfig, ConfigError } = await import("../config/load.ts");
  const { resolveStateDir, statePaths } = await import("../paths.ts");
  const { liveHolderUrl } = await import("../gateway/lock.ts");
  const { gatewayUrlFor } = await import("../webchat/server.ts");
  const paths = statePaths(resolveStateDir());
  let config;
  try {
    config = loadConfig({ defaultFile: paths.config }).config;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(Exit.USAGE, err.message);
    throw err;
  }
  // The running gateway's own port and bind (a `--port`/`--bind` flag beats the config file).
  const url = args.url ?? liveHolderUrl(paths.lock) ?? gatewayUrlFor(config.gateway.bind, config.gateway.port);
  const token = args.token || config.gateway.token;
  const { withClient } = await import("./connect.ts");
  await withClient({ url, ...(token ? { token } : {}) }, async (client) => {
    const link = await client.request("webchat.link");
    // The link alone on stdout (for scripts); what it is on stderr.
    console.log(link.url);
    console.error(link.expiresAt ? "One use, valid for 5 minutes: open it in the browser to sign in." : "No sign-in needed: no gateway token is set.");
  });
}
