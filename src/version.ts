import pkg from "../package.json" with { type: "json" };

// Replaced at build time by build/compile.ts (`--define`); absent when run from source.
declare const __CLAWDIS_VERSION__: string | undefined;
declare const __CLAWDIS_COMMIT__: string | undefined;

/** The version and git commit this build was made from. */
export const VERSION: string = typeof __CLAWDIS_VERSION__ === "string" ? __CLAWDIS_VERSION__ : pkg.version;
export const COMMIT: string = typeof __CLAWDIS_COMMIT__ === "string" ? __CLAWDIS_COMMIT__ : "source";
