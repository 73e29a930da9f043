import { defineCommand } from "citty";
import { handled } from "./errors.ts";
import { visible } from "../core/visible.ts";

const MARK = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;

/** `clawdis doctor`: find (and with --fix repair) what is wrong with this host's gateway set-up. */
export default defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check the config, file modes, lock, port, bind/token, WhatsApp credentials, Telegram token, agent backend, " +
      "disk space and file sizes. Never needs the gateway running; never prints a secret.\n" +
      "Exit 0 when nothing failed, 1 otherwise.\n\n" +
      "Examples:\n  clawdis doctor\n  clawdis doctor --fix        # chmod state files, remove a stale lock, back up WhatsApp creds\n  clawdis doctor --json",
  },
  args: {
    json: { type: "boolean", description: "Print [{id, status, message, fix?}] as JSON" },
    fix: { type: "boolean", description: "Repair what is safe to repair (modes, a stale lock, a missing backup) and say what changed" },
  },
  run: ({ args }) =>
    handled(async () => {
      const { resolveStateDir, statePaths } = await import("../paths.ts");
      const { runChecks } = await import("../doctor/checks.ts");
      const ctx = { paths: statePaths(resolveStateDir()), env: process.env, fix: Boolean(args.fix), changed: [] as string[], timeoutMs: 5_000 };
      const findings = await runChecks(ctx);
      if (args.json) {
        console.log(JSON.stringify(findings, null, 2));
        for (const c of ctx.changed) console.error(`changed: ${c}`);
      } else {
        console.log(`clawdis doctor: ${ctx.paths.stateDir}`);
        for (const f of findings) {
          // Paths found in the state dir (a planted link's target) may hold control characters.
          console.log(visible(`${MARK[f.status]}  ${f.id.padEnd(9)} ${f.message}`));
          if (f.fix && f.status !== "ok") console.log(visible(`${" ".repeat(16)}fix: ${f.fix}`));
        }
        for (const c of ctx.changed) console.log(visible(`changed: ${c}`));
        const failed = findings.filter((f) => f.status === "fail").length;
        const warned = findings.filter((f) => f.status === "warn").length;
        console.log(failed === 0 ? `no failures${warned > 0 ? ` (${warned} warning(s))` : ""}` : `${failed} check(s) failed`);
      }
      process.exitCode = findings.some((f) => f.status === "fail") ? 1 : 0;
    }),
});
