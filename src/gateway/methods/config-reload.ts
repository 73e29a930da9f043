import type { Handler } from "./types.ts";

/** `config.reload`: re-read the config file now; an invalid file is refused whole and the answer lists every problem. */
export const configReload: Handler<"config.reload"> = (_params, { gw, caller }) =>
  gw.reloadConfig(`config.reload from ${caller.client.name} (${caller.connId})`, caller.connId);
