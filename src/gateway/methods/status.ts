import type { GatewayContext } from "../context.ts";
import { JsonText, type Handler } from "./types.ts";

/** The status fields that never change while the gateway runs, as JSON up to `"uptimeMs":`. */
let head = { version: "", commit: "", host: "", json: "" };
function headOf(gw: GatewayContext): string {
  const { version, commit } = gw.build;
  if (head.version !== version || head.commit !== commit || head.host !== gw.host) {
    const json = `{"version":${JSON.stringify(version)},"commit":${JSON.stringify(commit)},"host":${JSON.stringify(gw.host)},"uptimeMs":`;
    head = { version, commit, host: gw.host, json };
  }
  return head.json;
}

/**
 * `status`: a short summary for humans and dashboards. Asked for many times a second by
 * dashboards and scripts, so its JSON is put together from pieces (StatusSchema is the
 * shape; test/gateway/status.test.ts holds the two together).
 */
export const status: Handler<"status"> = (_params, { gw }) => {
  const web = gw.providers.status("whatsapp");
  const telegram = gw.providers.status("telegram");
  const linked = gw.providers.linked();
  const uptime = Math.max(0, Date.now() - gw.startedAt);
  return new JsonText(
    `${headOf(gw)}${uptime},"linked":${linked.length === 0 ? "[]" : JSON.stringify(linked)},"providers":${providersJson(web, telegram)},` +
      `"clients":${gw.clients()},"agent":{"backend":${backendJson(gw.agent.backendName)},"running":${gw.agent.active}}}`,
  );
};

/** The four provider flags make 16 texts: each made once. */
const providerTexts: string[] = [];
function providersJson(web: { linked: boolean; connected: boolean }, telegram: { linked: boolean; connected: boolean }): string {
  const key = (web.linked ? 1 : 0) | (web.connected ? 2 : 0) | (telegram.linked ? 4 : 0) | (telegram.connected ? 8 : 0);
  return (providerTexts[key] ??=
    `{"whatsapp":{"linked":${web.linked},"connected":${web.connected}},"telegram":{"configured":${telegram.linked},"connected":${telegram.connected}}}`);
}

let backend = { name: "", json: '""' };
function backendJson(name: string): string {
  if (backend.name !== name) backend = { name, json: JSON.stringify(name) };
  return backend.json;
}
