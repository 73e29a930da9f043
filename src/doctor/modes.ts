import { configSecrets } from "../config/secrets.ts";
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "node:path";
import type { LoadedConfig } from "../config/load.ts";
import type { StatePaths } from "../paths.ts";
import { sessionKeyPath } from "../webchat/session-key.ts";
import { fail, ok, warn, type DoctorContext, type Finding } from "./finding.ts";

/**
 * Every path that holds state or secrets. Symlinks are listed apart and never followed:
 * a link planted in the state dir must not make `--fix` chmod a file (or a directory, to
 * 0600) somewhere else. Whether a path is a directory comes from lstat, not from its name.
 */
function sensitivePaths(p: StatePaths, extra: string[]): { paths: { path: string; dir: boolean }[]; links: string[] } {
  const paths: { path: string; dir: boolean }[] = [];
  const links: string[] = [];
  const visit = (path: string, depth: number) => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) return void links.push(path);
    paths.push({ path, dir: st.isDirectory() });
    if (st.isDirectory() && depth >= 0 && depth < 4) for (const name of readdirSync(path)) visit(join(path, name), depth + 1);
  };
  const state = p.stateDir;
  // The state dir itself, not its whole content (depth -1: not walked). It may be a link the
  // owner made (~/.clawdis → a data disk): its real directory is what must be private.
  if (existsSync(state)) visit(lstatSync(state).isSymbolicLink() ? realpathSync(state) : state, -1);
  // Message bodies wait in outbox/ (outgoing) and inbound/ (kept inbound); media/ holds inbound media.
  const dirs = [join(state, "credentials"), p.logDir, p.ledger, p.pairing, p.sessions, join(state, "telegram"), join(state, "whatsapp"), p.outbox, p.inboundPending, join(state, "media")];
  for (const sub of dirs) visit(sub, 0);
  // webchat-session.key signs WebChat's session cookies: whoever reads it (and knows the token) can mint one.
  for (const file of [p.lock, p.idempotency, join(state, "gateway.env"), sessionKeyPath(state), ...extra]) visit(file, -1);
  return { paths, links };
}

/**
 * chmod through a descriptor opened without following a link, so a path swapped for a
 * symlink after the lstat is not followed either; the mode (0700 or 0600) comes from what
 * the descriptor really is. Returns the mode set, or "symlink".
 */
function chmodNoFollow(path: string): number | "symlink" {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted under the name must not hang the doctor.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") return "symlink";
    // Not openable for reading (e.g. mode 0200): chmod by path, after one more lstat.
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return "symlink";
    const mode = st.isDirectory() ? 0o700 : 0o600;
    chmodSync(path, mode);
    return mode;
  }
  try {
    const mode = fstatSync(fd).isDirectory() ? 0o700 : 0o600;
    fchmodSync(fd, mode);
    return mode;
  } finally {
    closeSync(fd);
  }
}

function linkText(path: string): string {
  try {
    return `${path} -> ${readlinkSync(path)}`;
  } catch {
    return path;
  }
}

export function checkModes(ctx: DoctorContext, loaded: LoadedConfig | null): Finding {
  if (process.platform === "win32") return ok("modes", "file modes are not checked on Windows");
  const bad: string[] = [];
  // The config file matters only when it holds a secret (a token, an MCP server's headers or env).
  const c = loaded?.config;
  const extra = loaded?.file && c && configSecrets(c).length > 0 ? [loaded.file] : [];
  const { paths, links } = sensitivePaths(ctx.paths, extra);
  for (const { path } of paths) {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      continue;
    }
    if (st.isSymbolicLink()) {
      links.push(path);
      continue;
    }
    const mode = st.mode & 0o777;
    // Group/other bits are what matter; a stricter mode (e.g. 0400) is fine.
    if ((mode & 0o077) === 0) continue;
    if (!ctx.fix) {
      bad.push(`${path} is ${mode.toString(8).padStart(4, "0")}`);
      continue;
    }
    const set = chmodNoFollow(path);
    if (set === "symlink") links.push(path);
    else ctx.changed.push(`chmod ${set.toString(8)} ${path} (was ${mode.toString(8).padStart(4, "0")})`);
  }
  const skipped = links.length > 0 ? `; symlinks not followed (their targets were left alone): ${links.map(linkText).join(", ")}` : "";
  if (bad.length > 0) {
    return fail("modes", `readable by others: ${bad.join(", ")}${skipped}`, "run `clawdis doctor --fix` (or chmod 700 the dirs and 600 the files)");
  }
  if (links.length > 0) {
    return warn(
      "modes",
      `state files are private, but${skipped.slice(1)}`,
      "replace each symlink with the real file (or check its target's mode yourself): doctor never changes a file outside the state dir",
    );
  }
  return ok("modes", "state dir, credentials, logs, ledger, pairing, outbox, inbound, media and the WebChat session key are private (0700 dirs, 0600 files)");
}
