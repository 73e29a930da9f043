/** The reload plan: what a new config applies now, and what it leaves for a restart (never half of a key). */
import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { changedKeys, planReload } from "../../src/config/reload.ts";
import { ConfigSchema, type Config } from "../../src/config/schema.ts";

const cfg = (raw: unknown): Config => v.parse(ConfigSchema, raw);

describe("planReload", () => {
  test("live keys apply; restart-only keys keep the running value and are named", () => {
    const started = cfg({ gateway: { token: "a" } });
    const next = cfg({ gateway: { token: "b", port: 1, journal: { maxEvents: 5 } }, telegram: { allowFrom: ["@me"] }, webchat: { port: 2 } });
    const plan = planReload(started, next, started);
    expect(plan.applied).toEqual(["gateway.token", "telegram.allowFrom"]);
    expect(plan.restartRequired).toEqual(["gateway.journal.maxEvents", "gateway.port", "webchat.port"]);
    expect(plan.effective.gateway.port).toBe(started.gateway.port);
    expect(plan.effective.gateway.journal.maxEvents).toBe(started.gateway.journal.maxEvents);
    expect(plan.effective.webchat.port).toBe(started.webchat.port);
    expect(plan.effective.gateway.token).toBe("b");
  });

  test("keys the providers take once at start-up (telegram.sendTimeoutS, whatsapp.waVersion) wait for a restart", () => {
    const started = cfg({});
    const plan = planReload(started, cfg({ telegram: { sendTimeoutS: 5, allowFrom: ["@me"] }, whatsapp: { waVersion: [2, 3000, 1] } }), started);
    expect(plan.restartRequired).toEqual(["telegram.sendTimeoutS", "whatsapp.waVersion"]);
    expect(plan.applied).toEqual(["telegram.allowFrom"]);
    expect(plan.effective.telegram.sendTimeoutS).toBe(60);
    expect(plan.effective.whatsapp.waVersion).toBeUndefined();
  });

  test("maxPayload can shrink live but not grow past what the runtime was told at start", () => {
    const started = cfg({ gateway: { maxPayload: 100_000 } });
    expect(planReload(started, cfg({ gateway: { maxPayload: 50_000 } }), started)).toMatchObject({ applied: ["gateway.maxPayload"], restartRequired: [] });
    const grow = planReload(started, cfg({ gateway: { maxPayload: 200_000 } }), started);
    expect(grow.restartRequired).toEqual(["gateway.maxPayload"]);
    expect(grow.effective.gateway.maxPayload).toBe(100_000);
  });

  test("a restart-only key changed and changed back is no longer pending; removing an optional key applies", () => {
    const started = cfg({ gateway: { port: 10, token: "t" }, agent: { backend: "echo" } });
    const running = planReload(started, cfg({ gateway: { port: 11, token: "t" }, agent: { backend: "echo" } }), started).effective;
    const back = planReload(running, cfg({ gateway: { port: 10 } }), started);
    expect(back.restartRequired).toEqual([]);
    expect(back.applied).toEqual(["agent.backend", "gateway.token"]);
    expect(back.effective.gateway.token).toBeUndefined();
  });

  test("changedKeys treats arrays as one value", () => {
    expect(changedKeys(cfg({ whatsapp: { allowFrom: ["+1"] } }), cfg({ whatsapp: { allowFrom: ["+1", "+2"] } }))).toEqual(["whatsapp.allowFrom"]);
  });
});
