/** The gateway, hardening and resume suites against Node on the JS bundle (node dist/clawdis.mjs). */
import { runtimeSuites } from "../suites/index.ts";

runtimeSuites("node");
