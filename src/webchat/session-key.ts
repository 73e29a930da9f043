import { createHmac, randomBytes } from "node:crypto";
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeAtomicSync } from "../core/atomic.ts";

/** The signing key's file name in the state dir. */
export const SESSION_KEY_FILE = "webchat-session.key";

/** Where WebChat keeps its signing key for a state dir. */
export const sessionKeyPath = (stateDir: string) => join(stateDir, SESSION_KEY_FILE);

const KEY_BYTES = 32;

/**
 * Which token a key was last used with, without writing down anything about the token
 * that the key does not already give away: HMAC(key, token).
 */
const tagFor = (key: Buffer, token: string) => createHmac("sha256", key).update("clawdis webchat token\0").update(token).digest("base64url");

/** The file: the key, then (since issue 20) the tag of the token it serves. An older file has no tag. */
function decode(text: string): { key: Buffer; tag: string | undefined } | null {
  const [line = "", tag] = text.trim().split("\n");
  const key = Buffer.from(line.trim(), "base64url");
  return key.length === KEY_BYTES ? { key, tag: tag?.trim() || undefined } : null;
}

const encode = (key: Buffer, token: string) => `${key.toString("base64url")}\n${tagFor(key, token)}\n`;

/** A new key in a temp file beside `path`, for link() (create only if absent). */
function tempBeside(path: string, key: Buffer, token: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, encode(key, token), { mode: 0o600 });
  return tmp;
}

/**
 * The random key WebChat's session cookies are signed with (mixed with the token), kept
 * in a 0600 file so sign-ins survive a restart. Created once, atomically: two processes
 * starting together (gateway and `clawdis webchat`) end up with the same key.
 *
 * The file also records which token the key last served: a WebChat that starts with
 * another token (a rotation, live or across a restart) writes a new key first. The MAC
 * key is HMAC(key, token), so without this rotating A → B → A would revive every
 * session signed under A (issue 20 §8); with it no session outlives a rotation.
 */
export const keyFile = {
  load(path: string, token: string): Buffer {
    try {
      const stored = decode(readFileSync(path, "utf8"));
      if (stored) {
        // Someone loosened it: a readable key lets any local account forge a sign-in.
        if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
        const tag = tagFor(stored.key, token);
        if (stored.tag === tag) return stored.key;
        // A file from before the tag: it served this token as far as anyone knows; keep its sessions.
        if (stored.tag === undefined) {
          keyFile.replace(path, stored.key, token);
          return stored.key;
        }
      }
      // Damaged, or last used with another token: start over (every browser signs in again).
      const fresh = randomBytes(KEY_BYTES);
      keyFile.replace(path, fresh, token);
      return fresh;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const fresh = randomBytes(KEY_BYTES);
    const tmp = tempBeside(path, fresh, token);
    try {
      // link() fails if the file appeared meanwhile: then the other process's key wins.
      linkSync(tmp, path);
      return fresh;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      return decode(readFileSync(path, "utf8"))?.key ?? fresh;
    } finally {
      unlinkSync(tmp);
    }
  },

  /** Write a new key, for `token`, in place of the old one (temp + rename). */
  replace(path: string, key: Buffer, token: string): void {
    writeAtomicSync(path, encode(key, token), 0o600);
  },
};
