import Ajv, { type ValidateFunction } from "ajv";
import { protocolJsonSchema } from "../../src/protocol/json-schema.ts";

let compiled: { server: ValidateFunction; client: ValidateFunction; def: (name: string) => ValidateFunction } | null = null;

/** AJV validators compiled from the emitted JSON Schema (not from valibot). */
export function schemaValidators() {
  if (compiled) return compiled;
  const schema = protocolJsonSchema() as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(schema, "protocol");
  const def = (name: string) => {
    const v = ajv.getSchema(`protocol#/$defs/${name}`);
    if (!v) throw new Error(`no definition ${name} in the protocol schema`);
    return v;
  };
  compiled = { server: def("ServerFrame"), client: def("ClientFrame"), def };
  return compiled;
}

/** Throws with AJV's errors when a frame the server sent does not match the schema. */
export function assertServerFrame(frame: unknown): void {
  const { server } = schemaValidators();
  if (!server(frame)) {
    throw new Error(`server frame violates dist/protocol.schema.json: ${JSON.stringify(server.errors)}\n${JSON.stringify(frame).slice(0, 500)}`);
  }
}

/** Frames seen by every TestClient in this process, by type, for coverage assertions. */
export const seenFrameTypes = new Map<string, number>();
