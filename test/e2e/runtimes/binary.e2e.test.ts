/** The gateway, hardening and resume suites against the compiled Bun binary (dist/clawdis). */
import { runtimeSuites } from "../suites/index.ts";

runtimeSuites("binary");
