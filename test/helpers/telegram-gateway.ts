import { TestClient } from "./client.ts";
import { spawnGateway, type RunningGateway, type Target } from "./gateway.ts";
import { until } from "./until.ts";

/** A gateway on `stateDir` whose Telegram polling has begun (getMe answered): messages queued from now on are seen. */
export async function telegramGateway(target: Target, stateDir: string, env: Record<string, string>): Promise<RunningGateway> {
  const gw = await spawnGateway({ target, stateDir, env });
  const { c } = await TestClient.connect(gw.url);
  await until(async () => (await c.request("health")).payload.telegram.connected, "telegram connected");
  c.close();
  return gw;
}

/** Inbound ledger records of one chat (unsorted). */
export async function inboundOf(gw: RunningGateway, chat: number | string): Promise<any[]> {
  const { c } = await TestClient.connect(gw.url);
  const recs = (await c.request("ledger.list", { direction: "inbound", limit: 1_000 })).payload.records.filter((r: any) => r.chat === String(chat));
  c.close();
  return recs;
}
