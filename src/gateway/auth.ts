/** Compare a presented token with the configured one in time independent of where they differ. */
export { secretEquals as tokenMatches } from "../core/secret.ts";
