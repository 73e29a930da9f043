/** Agent tools over MCP and a model stream's end, on the compiled binary, Node (dist/clawdis.mjs) and Deno. */
import { modelStreamSuite } from "./suites/model-stream.ts";
import type { Target } from "./suites/runtime.ts";
import { toolsSuite } from "./suites/tools.ts";

const targets = (process.env.CLAWDIS_E2E_TARGETS ?? "binary,node,deno").split(",") as Target[];
for (const target of targets) {
  toolsSuite(target);
  modelStreamSuite(target);
}
