import type { MethodName, MethodParams, MethodResult } from "../../protocol/index.ts";
import type { Caller, GatewayContext } from "../context.ts";

/** What a handler gets besides its params. */
export interface Call {
  readonly gw: GatewayContext;
  readonly caller: Caller;
  /** First stage of a two-stage method: send an accepted `res` now, the final one later. */
  ack(payload: unknown): void;
}

/**
 * A result already written as JSON text, for a method called often enough that building the
 * text from cached pieces beats `JSON.stringify` (`status`). The connection writes it as is;
 * `T` names the shape the text holds, and a test checks it against the method's result schema.
 */
export class JsonText<T> {
  declare private readonly shape?: T;
  constructor(readonly json: string) {}
}

export type Handler<M extends MethodName> = (
  params: MethodParams<M>,
  call: Call,
) => Promise<MethodResult<M>> | MethodResult<M> | JsonText<MethodResult<M>>;
