/** Health change detection: a tick with nothing changed sends no `health` event. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HealthState } from "../../src/gateway/health.ts";
import { SessionsSummary } from "../../src/gateway/sessions-summary.ts";
import { Providers, type Provider, type ProviderStatus } from "../../src/providers/index.ts";

/** A linked WhatsApp whose auth age grows with the clock, as the real one's does. */
function linkedWhatsApp(clock: { now: number }, linkedAt: number) {
  const state = { connected: true };
  const provider = {
    name: "whatsapp",
    status: (): ProviderStatus => ({ linked: true, connected: state.connected, authAgeMs: clock.now - linkedAt }),
    start: async () => {},
    stop: async () => {},
    send: async () => ({ messageId: "m" }),
  } as unknown as Provider;
  return { provider, state };
}

describe("HealthState: time-derived fields are reported, not changes", () => {
  test("ticks while linked and idle send nothing; the snapshot still shows the current auth age; a real change goes out once", () => {
    const clock = { now: 1_000_000 };
    const wa = linkedWhatsApp(clock, clock.now - 5_000);
    const changes: number[] = [];
    const health = new HealthState({
      providers: new Providers([wa.provider]),
      agentBackend: "echo",
      startedAt: clock.now,
      tickIntervalMs: 1_000,
      sessions: new SessionsSummary(join(mkdtempSync(join(tmpdir(), "health-")), "sessions")),
      now: () => clock.now,
      onChange: (_h, version) => changes.push(version),
    });
    const before = health.version;
    for (let i = 0; i < 5; i++) {
      clock.now += 1_000;
      health.refresh();
    }
    expect(changes).toEqual([]);
    expect(health.version).toBe(before);
    expect(health.snapshot().web.authAgeMs).toBe(10_000);

    wa.state.connected = false;
    clock.now += 1_000;
    health.refresh();
    expect(changes).toEqual([before + 1]);
    health.refresh();
    expect(changes.length).toBe(1);
  });
});
