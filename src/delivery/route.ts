import { GatewayError, type ProviderName } from "../protocol/index.ts";
import type { Providers, ProviderSendParams } from "../providers/index.ts";

/** The provider a send goes to; one that is reconnecting is queued for (its jobs wait it out within the retry window). */
export function routeOrWait(providers: Providers, params: ProviderSendParams): ProviderName {
  try {
    return providers.route(params).name;
  } catch (err) {
    const name = err instanceof GatewayError && err.retryable ? (err.details as { provider?: ProviderName } | undefined)?.provider : undefined;
    if (name) return name;
    throw err;
  }
}
