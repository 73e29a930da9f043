/**
 * The real-socket e2e suites, written once and run against a gateway on every runtime
 * (crossws style): each file in test/e2e/runtimes/ is a few lines naming its target.
 */
import type { Target } from "./runtime.ts";
import { gatewaySuite } from "./gateway.ts";
import { hardeningSuite } from "./hardening.ts";
import { resumeSuite } from "./resume.ts";

export function runtimeSuites(target: Target): void {
  gatewaySuite(target);
  hardeningSuite(target);
  resumeSuite(target);
}
