/** Service definitions for launchd and systemd: pure text from explicit inputs. */

export interface ServiceSpec {
  /** argv that starts the gateway, absolute paths only. */
  argv: string[];
  stateDir: string;
  /** Holds CLAWDIS_GATEWAY_TOKEN (mode 0600): the token never goes into the service file. */
  envFile: string;
  workingDirectory: string;
  /** systemd: a per-user unit (default.target) rather than a system one (multi-user.target). */
  userUnit?: boolean;
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** systemd quoting: arguments with spaces or quotes are double-quoted with escapes. */
function systemdArg(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function renderSystemdUnit(spec: ServiceSpec): string {
  return [
    "[Unit]",
    "Description=Clawdis Gateway",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    `ExecStart=${spec.argv.map(systemdArg).join(" ")}`,
    "# `systemctl reload clawdis-gateway` re-reads the config without dropping connections.",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "Restart=on-failure",
    "RestartSec=5",
    `Environment=CLAWDIS_STATE_DIR=${systemdArg(spec.stateDir)}`,
    "# The token lives in this file (mode 0600), never in the unit.",
    `EnvironmentFile=-${spec.envFile}`,
    `WorkingDirectory=${spec.workingDirectory}`,
    "",
    "[Install]",
    `WantedBy=${spec.userUnit ? "default.target" : "multi-user.target"}`,
    "",
  ].join("\n");
}

export const LAUNCHD_LABEL = "com.clawdis.gateway";

export function renderLaunchdPlist(spec: ServiceSpec): string {
  // launchd has no environment-file option: a POSIX shell loads the 0600 file, then
  // execs the gateway with the same argv (no shell parsing of the arguments).
  const argv = ["/bin/sh", "-c", 'if [ -f "$0" ]; then set -a; . "$0"; set +a; fi; exec "$@"', spec.envFile, ...spec.argv];
  const strings = (xs: string[]) => xs.map((x) => `    <string>${xml(x)}</string>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${LAUNCHD_LABEL}</string>
  <key>ProgramArguments</key>
  <array>
${strings(argv)}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>CLAWDIS_STATE_DIR</key>
    <string>${xml(spec.stateDir)}</string>
  </dict>
  <key>WorkingDirectory</key>
  <string>${xml(spec.workingDirectory)}</string>
  <key>KeepAlive</key>
  <true/>
  <key>RunAtLoad</key>
  <true/>
  <key>StandardOutPath</key>
  <string>${xml(`${spec.stateDir}/logs/gateway.stdout.log`)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(`${spec.stateDir}/logs/gateway.stderr.log`)}</string>
</dict>
</plist>
`;
}
