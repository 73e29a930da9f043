import { toJsonSchema, type JsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import { HealthSchema, McpServerHealthSchema, PresenceEntrySchema, SessionSummarySchema, StateVersionSchema } from "./common.ts";
import { ErrorShapeSchema } from "./errors.ts";
import { EVENTS, ToolEventDataSchema } from "./events.ts";
import {
  ClientFrameSchema,
  EventFrameSchema,
  HelloErrorSchema,
  HelloOkSchema,
  HelloSchema,
  PROTOCOL_VERSION,
  ReqSchema,
  ResSchema,
  ServerFrameSchema,
} from "./frames.ts";
import { METHODS } from "./methods.ts";

const pascal = (name: string) =>
  name.replace(/(^|[-_.])([a-z])/g, (_m, _sep, c: string) => c.toUpperCase());

/**
 * The protocol as one JSON Schema document, built from the valibot schemas (never by
 * hand): frames, the error shape, and each method's params/result and event payload
 * under `definitions`. `npm run protocol:gen` writes it to `dist/protocol.schema.json`.
 */
export function protocolJsonSchema(): JsonSchema {
  const definitions: Record<string, v.GenericSchema> = {
    ErrorShape: ErrorShapeSchema,
    StateVersion: StateVersionSchema,
    PresenceEntry: PresenceEntrySchema,
    Health: HealthSchema,
    McpServerHealth: McpServerHealthSchema,
    SessionSummary: SessionSummarySchema,
    /** `data` of an `agent` event with `stream:"tool"`. */
    AgentToolEventData: ToolEventDataSchema,
    Hello: HelloSchema,
    HelloOk: HelloOkSchema,
    HelloError: HelloErrorSchema,
    Req: ReqSchema,
    Res: ResSchema,
    Event: EventFrameSchema,
    ClientFrame: ClientFrameSchema,
    ServerFrame: ServerFrameSchema,
  };
  for (const [name, m] of Object.entries(METHODS)) {
    // Params are wrapped in optional() for no-arg methods; the definition is the inner object.
    const params = m.params.type === "optional" ? (m.params as unknown as { wrapped: v.GenericSchema }).wrapped : m.params;
    definitions[`${pascal(name)}Params`] = params;
    definitions[`${pascal(name)}Result`] = m.result as v.GenericSchema;
  }
  for (const [name, schema] of Object.entries(EVENTS)) {
    definitions[`${pascal(name)}EventPayload`] = schema;
  }
  const doc = toJsonSchema(v.union([ClientFrameSchema, ServerFrameSchema]), {
    definitions,
    target: "draft-07",
  }) as Record<string, unknown>;
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: `https://clawdis.dev/protocol/v${PROTOCOL_VERSION}.schema.json`,
    title: `clawdis gateway protocol v${PROTOCOL_VERSION}`,
    ...doc,
  } as JsonSchema;
}
