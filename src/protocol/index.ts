/** The contract between the gateway and every client. Pure data: no I/O, no imports from the rest of src/. */
export * from "./common.ts";
export * from "./errors.ts";
export * from "./close-codes.ts";
export * from "./frames.ts";
export * from "./methods.ts";
export * from "./events.ts";
export * from "./ledger.ts";
export * from "./issues.ts";
export * from "./pairing.ts";
