import { GatewayError } from "../protocol/index.ts";
import { diskFullMessage } from "../store/disk-full.ts";
import type { GatewayContext } from "./context.ts";

/** What a client is told when its method threw: the method's own typed error, a full disk, or an internal error (logged). */
export function failureOf(gw: GatewayContext, connId: string, method: string, err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  // A full disk is no internal error (and its log is on that disk): say what happened.
  if (gw.disk.note(err)) return new GatewayError("UNAVAILABLE", diskFullMessage(err as NodeJS.ErrnoException, gw.disk.dir), { retryable: true });
  gw.log.error("method failed", { connId, method, error: err instanceof Error ? err.stack : String(err) });
  return new GatewayError("UNAVAILABLE", `internal error in ${method}; see the gateway log`);
}
