import { visible } from "../core/visible.ts";

/** Exit codes of the CLI, documented in the README. */
export const Exit = {
  OK: 0,
  /** Fatal at run time, or the gateway answered with an error. */
  FAILURE: 1,
  /** Bad flags or bad config. */
  USAGE: 2,
  /** Could not connect, or the handshake was refused. */
  CONNECT: 3,
} as const;

/** An error the CLI prints as one line and exits with. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause !== undefined ? { cause } : undefined);
    this.name = "CliExit";
  }
}

export function parsePort(raw: string | undefined, flag = "--port"): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65_535) {
    throw new CliExit(Exit.USAGE, `${flag}: expected an integer 0–65535, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Run a command body; a CliExit becomes one line on stderr and its exit code. */
export async function handled(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof CliExit) {
      // The message may quote the gateway's error text, which may quote a stranger's.
      console.error(`clawdis: ${visible(err.message, { lines: true })}`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}
