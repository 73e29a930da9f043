import { askCommand } from "./ask.ts";

/** `clawdis gateway status`: a short summary. */
export default askCommand(
  {
    name: "status",
    description: "Print a short summary of the running gateway.\n\nExamples:\n  clawdis gateway status\n  clawdis gateway status --json",
  },
  "status",
  (s) =>
    [
      `clawdis ${s.version} (${s.commit}) on ${s.host}, up ${Math.round(s.uptimeMs / 1000)} s`,
      `linked: ${s.linked.length > 0 ? s.linked.join(", ") : "none"}`,
      `clients: ${s.clients}`,
      `agent: ${s.agent.backend} (${s.agent.running} running)`,
    ].join("\n"),
);
