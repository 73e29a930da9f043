import type { Hono } from "hono";
import type { Registry } from "prom-client";
import { mountGateway } from "../http/app.ts";
import { capBodies } from "../http/body-limit.ts";
import type { GatewayCounters } from "../metrics/counters.ts";
import { mountMetrics } from "../metrics/http.ts";
import { PROVIDERS, type ProviderName } from "../protocol/index.ts";
import type { Providers } from "../providers/index.ts";
import type { RuntimeAdapter, SocketHandler } from "../runtime/types.ts";
import type { GatewayContext } from "./context.ts";

export interface HttpMountDeps {
  ctx: GatewayContext;
  counters: GatewayCounters;
  providers: Providers;
  /** Sends waiting in a provider's delivery queue (`clawdis_send_queue_length`). */
  queued: (provider: ProviderName) => number;
  /** A socket handler for an accepted upgrade, or null to refuse it (shutting down). */
  accept: (remote: string, origin: string | undefined) => SocketHandler | null;
}

/** The gateway's HTTP surface on its one port: `GET /metrics` and the WebSocket at `/`. */
export function mountHttp(app: Hono, adapter: RuntimeAdapter, deps: HttpMountDeps): void {
  const { ctx } = deps;
  // No route on this port reads a body: any body is refused before it is read (issue 20).
  app.use("*", capBodies(() => 0));
  let registry: Promise<Registry> | null = null;
  mountMetrics(app, {
    token: () => ctx.config.gateway.token,
    remoteAddress: (c) => adapter.remoteAddress(c),
    limiter: ctx.authLimiter,
    // prom-client (and what it pulls in) loads on the first scrape, not at start-up.
    registry: () =>
      (registry ??= import("../metrics/exposition.ts").then(({ createRegistry }) => createRegistry({
        counters: deps.counters,
        build: { ...ctx.build, runtime: adapter.name },
        startedAt: ctx.startedAt,
        providers: PROVIDERS,
        providerConnected: (p) => deps.providers.status(p as ProviderName).connected,
        sendQueueLength: (p) => deps.queued(p as ProviderName),
      }))),
  });
  mountGateway(app, adapter, {
    allowedOrigins: () => ctx.config.gateway.allowedOrigins,
    onRefused: (remote, origin) => ctx.log.warn("refused browser origin", { remote, origin }),
    accept: deps.accept,
  });
}
