import { randomBytes } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeAtomicSync } from "../core/atomic.ts";

/** The signing key's file name in the state dir. */
export const SESSION_KEY_FILE = "webchat-session.key";

/** Where WebChat keeps its signing key for a state dir. */
export const sessionKeyPath = (stateDir: string) => join(stateDir, SESSION_KEY_FILE);

const KEY_BYTES = 32;

function decode(text: string): Buffer | null {
  const key = Buffer.from(text.trim(), "base64url");
  return key.length === KEY_BYTES ? key : null;
}

const encode = (key: Buffer) => `${key.toString("base64url")}\n`;

/** A new key in a temp file beside `path`, for link() (create only if absent). */
function tempBeside(path: string, key: Buffer): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, encode(key), { mode: 0o600 });
  return tmp;
}

/**
 * The random key WebChat's session cookies are signed with (mixed with the token), kept
 * in a 0600 file so sign-ins survive a restart. Created once, atomically: two processes
 * starting together (gateway and `clawdis webchat`) end up with the same key.
 */
export const keyFile = {
  load(path: string): Buffer {
    try {
      const key = decode(readFileSync(path, "utf8"));
      if (key) {
        // Someone loosened it: a readable key lets any local account forge a sign-in.
        if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
        return key;
      }
      // Damaged: start over (every browser signs in again).
      const fresh = randomBytes(KEY_BYTES);
      keyFile.replace(path, fresh);
      return fresh;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const fresh = randomBytes(KEY_BYTES);
    const tmp = tempBeside(path, fresh);
    try {
      // link() fails if the file appeared meanwhile: then the other process's key wins.
      linkSync(tmp, path);
      return fresh;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      return decode(readFileSync(path, "utf8")) ?? fresh;
    } finally {
      unlinkSync(tmp);
    }
  },

  /** Write a new key in place of the old one (temp + rename). */
  replace(path: string, key: Buffer): void {
    writeAtomicSync(path, encode(key), 0o600);
  },
};
