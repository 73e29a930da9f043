/** The gateway, hardening and resume suites against Deno from source (deno run -A src/cli.ts). */
import { runtimeSuites } from "../suites/index.ts";

runtimeSuites("deno");
