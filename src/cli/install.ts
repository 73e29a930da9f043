import { chmodSync, existsSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { defineCommand } from "citty";
import { writeAtomicSync } from "../core/atomic.ts";
import { resolveStateDir } from "../paths.ts";
import { CliExit, Exit, handled, parsePort } from "./errors.ts";
import { LAUNCHD_LABEL, renderLaunchdPlist, renderSystemdUnit, type ServiceSpec } from "./supervise.ts";

type Kind = "launchd" | "systemd";

function kindOf(args: { launchd?: boolean; systemd?: boolean }): Kind {
  if (args.launchd && args.systemd) throw new CliExit(Exit.USAGE, "choose one of --launchd or --systemd");
  if (args.launchd) return "launchd";
  if (args.systemd) return "systemd";
  throw new CliExit(Exit.USAGE, "say which supervisor: --launchd (macOS) or --systemd (Linux)");
}

export function serviceFile(kind: Kind, userUnit: boolean): string {
  if (kind === "launchd") return join(homedir(), "Library", "LaunchAgents", `${LAUNCHD_LABEL}.plist`);
  return userUnit
    ? join(homedir(), ".config", "systemd", "user", "clawdis-gateway.service")
    : "/etc/systemd/system/clawdis-gateway.service";
}

/** The argv that runs this very clawdis: the compiled binary alone, or runtime + script. */
function selfArgv(): string[] {
  const exe = process.execPath;
  const runtimes = new Set(["bun", "node", "deno", "bun.exe", "node.exe"]);
  if (!runtimes.has(basename(exe))) return [exe];
  const script = process.argv[1];
  if (!script) throw new CliExit(Exit.FAILURE, "cannot tell which clawdis is running; run install from the clawdis binary");
  return basename(exe).startsWith("deno") ? [exe, "run", "-A", resolve(script)] : [exe, resolve(script)];
}


const common = {
  launchd: { type: "boolean", description: "macOS launchd agent (~/Library/LaunchAgents)" },
  systemd: { type: "boolean", description: "systemd system unit (/etc/systemd/system; needs root)" },
  user: { type: "boolean", description: "with --systemd: a user unit (~/.config/systemd/user) instead" },
} as const;

export const install = defineCommand({
  meta: {
    name: "install",
    description:
      "Write a launchd plist or systemd unit that runs this clawdis as `gateway` and keeps it alive.\n" +
      "The token is never written into it: it goes to <state>/gateway.env (mode 0600).\n\n" +
      "Examples:\n" +
      "  clawdis gateway install --systemd --print\n" +
      "  clawdis gateway install --systemd --user\n" +
      "  clawdis gateway install --launchd --port 18789\n" +
      "  CLAWDIS_GATEWAY_TOKEN=s3cret clawdis gateway install --systemd",
  },
  args: {
    ...common,
    print: { type: "boolean", description: "Print the file instead of writing it" },
    port: { type: "string", description: "Port the service passes to `clawdis gateway`" },
    config: { type: "string", description: "Config file the service passes to `clawdis gateway`" },
  },
  run: ({ args }) =>
    handled(async () => {
      const kind = kindOf(args);
      const port = parsePort(args.port);
      const stateDir = resolve(resolveStateDir());
      const envFile = join(stateDir, "gateway.env");
      const spec: ServiceSpec = {
        argv: [
          ...selfArgv(),
          "gateway",
          ...(port !== undefined ? ["--port", String(port)] : []),
          ...(args.config ? ["--config", resolve(args.config)] : []),
        ],
        stateDir,
        envFile,
        workingDirectory: stateDir,
        userUnit: Boolean(args.user),
      };
      const text = kind === "launchd" ? renderLaunchdPlist(spec) : renderSystemdUnit(spec);
      if (args.print) {
        process.stdout.write(text);
        return;
      }
      const file = serviceFile(kind, Boolean(args.user));
      try {
        writeAtomicSync(file, text, 0o644);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EACCES" || code === "EPERM") {
          throw new CliExit(Exit.FAILURE, `cannot write ${file} (${code}): run as root, or use --systemd --user for a user unit`);
        }
        throw err;
      }
      if (!existsSync(envFile)) {
        const token = process.env.CLAWDIS_GATEWAY_TOKEN;
        writeAtomicSync(envFile, token ? `CLAWDIS_GATEWAY_TOKEN=${token}\n` : "# CLAWDIS_GATEWAY_TOKEN=\n", 0o600);
      }
      chmodSync(envFile, 0o600);
      console.log(`wrote ${file}`);
      console.log(`token file: ${envFile} (mode 0600)`);
      console.log(
        kind === "launchd"
          ? `next: launchctl load -w ${file}`
          : args.user
            ? "next: systemctl --user daemon-reload && systemctl --user enable --now clawdis-gateway.service"
            : "next: systemctl daemon-reload && systemctl enable --now clawdis-gateway.service",
      );
    }),
});

export const uninstall = defineCommand({
  meta: {
    name: "uninstall",
    description:
      "Remove the launchd plist or systemd unit written by install (stop the service first).\n\n" +
      "Examples:\n  clawdis gateway uninstall --systemd\n  clawdis gateway uninstall --launchd",
  },
  args: common,
  run: ({ args }) =>
    handled(async () => {
      const file = serviceFile(kindOf(args), Boolean(args.user));
      if (!existsSync(file)) {
        console.log(`nothing to remove: ${file} does not exist`);
        return;
      }
      rmSync(file);
      console.log(`removed ${file}`);
    }),
});
