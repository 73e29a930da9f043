import { defineCommand } from "citty";
import type { MethodName, MethodResult } from "../protocol/index.ts";
import { connectArgs } from "./connect.ts";
import { handled } from "./errors.ts";

/**
 * A command that asks the running gateway one method (no params) and prints the answer:
 * `human` for people, the raw payload with --json. `check` runs after printing and may
 * throw a CliExit (a refused reload exits 1 after saying why).
 */
export function askCommand<M extends MethodName>(
  meta: { name: string; description: string },
  method: M,
  human: (payload: MethodResult<M>) => string,
  check?: (payload: MethodResult<M>) => void,
) {
  return defineCommand({
    meta,
    args: connectArgs,
    run: ({ args }) =>
      handled(async () => {
        const { withClient, print } = await import("./connect.ts");
        await withClient(args, async (client) => {
          const payload = await client.request(method);
          print(args.json, payload, () => human(payload));
          check?.(payload);
        });
      }),
  });
}
