import type { Handler } from "./types.ts";

/** `status`: a short summary for humans and dashboards. */
export const status: Handler<"status"> = (_params, { gw }) => {
  const web = gw.providers.status("whatsapp");
  const telegram = gw.providers.status("telegram");
  return {
    version: gw.build.version,
    commit: gw.build.commit,
    host: gw.host,
    uptimeMs: Math.max(0, Date.now() - gw.startedAt),
    linked: gw.providers.linked(),
    providers: {
      whatsapp: { linked: web.linked, connected: web.connected },
      telegram: { configured: telegram.linked, connected: telegram.connected },
    },
    clients: gw.clients(),
    agent: { backend: gw.agent.backendName, running: gw.agent.active },
  };
};
