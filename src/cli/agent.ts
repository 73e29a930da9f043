import { defineCommand } from "citty";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";
import { visible } from "../core/visible.ts";
import { toolLine } from "./tool-lines.ts";

/** `clawdis gateway agent`: run an agent turn and stream its output. */
export default defineCommand({
  meta: {
    name: "agent",
    description:
      "Run an agent turn through the gateway; streams the reply, then prints the summary.\n\n" +
      "Examples:\n" +
      '  clawdis gateway agent --message "summarise my day"\n' +
      '  clawdis gateway agent --message "hi" --to +15551234567 --session-id work\n' +
      '  clawdis gateway agent --message "long job" --no-wait        # print the runId after the ack',
  },
  args: {
    message: { type: "string", description: "What to ask", required: true },
    to: { type: "string", description: "Conversation partner (selects the session)" },
    "session-id": { type: "string", description: "Session to continue (default: per --to, else main)" },
    "timeout-seconds": { type: "string", description: "Agent deadline in seconds" },
    deliver: { type: "boolean", description: "Send the reply to --to through the provider" },
    wait: { type: "boolean", default: true, description: "Wait for the final result (--no-wait returns after the ack)" },
    "idempotency-key": { type: "string", description: "Key that makes retries safe (generated when absent)" },
    ...connectArgs,
  },
  run: ({ args }) =>
    handled(async () => {
      let timeoutSeconds: number | undefined;
      if (args["timeout-seconds"] !== undefined) {
        timeoutSeconds = Number(args["timeout-seconds"]);
        if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
          throw new CliExit(Exit.USAGE, `--timeout-seconds: expected a number > 0, got ${JSON.stringify(args["timeout-seconds"])}`);
        }
      }
      const { withClient, print } = await import("./connect.ts");
      const params = {
        message: args.message,
        idempotencyKey: args["idempotency-key"] ?? crypto.randomUUID(),
        ...(args.to ? { to: args.to } : {}),
        ...(args["session-id"] ? { sessionId: args["session-id"] } : {}),
        ...(timeoutSeconds !== undefined ? { timeout: timeoutSeconds } : {}),
        ...(args.deliver ? { deliver: true } : {}),
      };
      await withClient(args, async (client, timeoutMs) => {
        if (!args.wait) {
          const ack = await new Promise<string>((resolve, reject) => {
            client.agent(params, { onAccepted: resolve, timeoutMs }).catch(reject);
          });
          print(args.json, { runId: ack, status: "accepted" }, () => `accepted: runId ${ack}`);
          return;
        }
        // The run may take long; the request waits for the agent's own deadline plus a margin.
        const waitMs = timeoutSeconds !== undefined ? timeoutSeconds * 1000 + 5_000 : 24 * 3_600_000;
        let streamed = false;
        const final = await client.agent(params, {
          timeoutMs: waitMs,
          onEvent: (ev) => {
            const line = toolLine(ev.stream, ev.data);
            if (line) process.stderr.write(`${line}\n`);
            if (args.json) return;
            const delta = (ev.data as { delta?: unknown } | undefined)?.delta;
            if (ev.stream === "assistant" && typeof delta === "string") {
              process.stdout.write(visible(delta, { lines: true }));
              streamed = true;
            }
          },
        });
        if (args.json) return print(true, final, () => "");
        if (streamed) process.stdout.write("\n");
        console.log(`[${final.status}] runId ${final.runId}: ${visible(final.summary, { lines: true })}`);
        if (final.status === "error") throw new CliExit(Exit.FAILURE, `agent run failed: ${final.summary}`);
      }, { reconnect: args.wait });
    }),
});
