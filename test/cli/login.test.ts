/** `clawdis login`/`logout` find the running gateway where it is bound, not only on 127.0.0.1. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { runCli, spawnGateway } from "../helpers/gateway.ts";

const lan = Object.values(networkInterfaces())
  .flat()
  .find((a) => a?.family === "IPv4" && !a.internal)?.address;
const TOKEN = "login-test-Token-1234";

describe("login/logout dial the gateway's bind from its lock file", () => {
  const cases: Array<{ bind: string; skip?: boolean }> = [{ bind: "::1" }, { bind: "0.0.0.0" }, { bind: lan ?? "(no LAN address)", skip: !lan }];
  for (const { bind, skip } of cases) {
    test.skipIf(skip === true)(`a gateway bound to ${bind}: logout goes through it`, async () => {
      const g = await spawnGateway({ args: ["--port", "0", "--bind", bind], env: { CLAWDIS_GATEWAY_TOKEN: TOKEN } });
      try {
        const lock = JSON.parse(readFileSync(join(g.stateDir, "gateway.lock"), "utf8"));
        expect(lock).toMatchObject({ port: g.port, bind });
        const res = await runCli(["logout"], { env: { CLAWDIS_STATE_DIR: g.stateDir, CLAWDIS_GATEWAY_TOKEN: TOKEN } });
        // Dialling 127.0.0.1 would miss a gateway on ::1 or a LAN address: exit 3, "could not connect".
        expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: "" });
        expect(res.stdout).toBe("WhatsApp unlinked; credentials removed.\n");
      } finally {
        await g.stop();
      }
    });
  }
});
