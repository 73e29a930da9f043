import type { MethodName, MethodParams, MethodResult } from "../../protocol/index.ts";
import type { Caller, GatewayContext } from "../context.ts";

/** What a handler gets besides its params. */
export interface Call {
  readonly gw: GatewayContext;
  readonly caller: Caller;
  /** First stage of a two-stage method: send an accepted `res` now, the final one later. */
  ack(payload: unknown): void;
}

export type Handler<M extends MethodName> = (params: MethodParams<M>, call: Call) => Promise<MethodResult<M>> | MethodResult<M>;
