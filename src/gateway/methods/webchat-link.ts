import { GatewayError, type MethodResult } from "../../protocol/index.ts";
import type { GatewayContext } from "../context.ts";
import type { Handler } from "./types.ts";

type Link = MethodResult<"webchat.link">;

/** The WebChat served beside each gateway, as the one thing this method needs from it. */
const links = new WeakMap<GatewayContext, () => Link>();

/** WebChat started beside this gateway: `webchat.link` now mints its sign-in links. */
export function provideWebChatLink(gw: GatewayContext, mint: () => Link): void {
  links.set(gw, mint);
}

/**
 * `clawdis webchat --link`: a fresh one-time sign-in link for a running gateway's WebChat.
 * Only a caller past the handshake gets here, so with a token set it takes the token.
 */
export const webchatLink: Handler<"webchat.link"> = (_params, { gw, caller }) => {
  const mint = links.get(gw);
  if (!mint) {
    throw new GatewayError(
      "UNAVAILABLE",
      "this gateway serves no WebChat (webchat.enabled is false, or its port was taken: see the gateway log); " +
        "a separate `clawdis webchat` prints its own sign-in link when it starts",
    );
  }
  const link = mint();
  // That a link was made, never the link: its code works for 5 minutes.
  gw.log.info("webchat: made a one-time sign-in link", { for: caller.client.name, instanceId: caller.instanceId });
  return link;
};
