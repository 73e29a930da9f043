import { defineCommand } from "citty";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";

/** CLI retries of one send; the same idempotency key makes them safe. */
const ATTEMPTS = 3;

/** `clawdis gateway send`: one message through the gateway's provider. */
export default defineCommand({
  meta: {
    name: "send",
    description:
      "Send a message through the running gateway (idempotent: retries reuse one key).\n\n" +
      "Examples:\n" +
      '  clawdis gateway send --to +15551234567 --message "hi"\n' +
      '  clawdis gateway send --to 123456789 --provider telegram --message "hi" --media-url https://example.com/cat.jpg\n' +
      '  clawdis gateway send --to +15551234567 --message "hi" --idempotency-key order-42',
  },
  args: {
    to: { type: "string", description: "Recipient: phone number (WhatsApp) or chat id (Telegram)", required: true },
    message: { type: "string", description: "Message text", required: true },
    "media-url": { type: "string", description: "Media to attach, by URL" },
    provider: { type: "string", description: "whatsapp | telegram (default: WhatsApp if linked, else Telegram)" },
    "idempotency-key": { type: "string", description: "Key that makes retries safe (generated when absent)" },
    ...connectArgs,
  },
  run: ({ args }) =>
    handled(async () => {
      if (args.provider !== undefined && args.provider !== "whatsapp" && args.provider !== "telegram") {
        throw new CliExit(Exit.USAGE, `--provider: expected whatsapp or telegram, got ${JSON.stringify(args.provider)}`);
      }
      const { withClient, print } = await import("./connect.ts");
      const { GatewayClientError } = await import("../client/index.ts");
      const params = {
        to: args.to,
        message: args.message,
        idempotencyKey: args["idempotency-key"] ?? crypto.randomUUID(),
        ...(args["media-url"] ? { mediaUrl: args["media-url"] } : {}),
        ...(args.provider ? { provider: args.provider as "whatsapp" | "telegram" } : {}),
      };
      for (let attempt = 1; ; attempt++) {
        try {
          await withClient(args, async (client) => {
            const res = await client.request("send", params);
            print(args.json, res, () => `sent via ${res.provider} to ${res.to} (message id ${res.messageId})`);
          });
          return;
        } catch (err) {
          // Only a transport failure or a retryable answer is retried, always with the same key.
          const cause = err instanceof CliExit ? err.cause : err;
          const retryable = cause instanceof GatewayClientError && cause.retryable;
          if (!retryable || attempt >= ATTEMPTS) throw err;
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    }),
});
