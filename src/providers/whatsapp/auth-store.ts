import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { BufferJSON, initAuthCreds, proto, type AuthenticationCreds, type AuthenticationState, type SignalDataTypeMap } from "@whiskeysockets/baileys";
import { privateDir, readJson, writeAtomic } from "../../core/atomic.ts";
import { moveAside } from "../../store/corrupt.ts";

const CREDS = "creds.json";
const BACKUP = "creds.json.bak";
/** When the link was made: Baileys rewrites creds.json on every connect, so its mtime cannot say. */
const LINK = "link.json";

/**
 * A link exists only once WhatsApp confirmed the pairing (pair-success gives `account`).
 * `me` alone is not enough: a pairing-code request stores `me` before anything is linked.
 */
const linkedCreds = (creds: AuthenticationCreds | null) => Boolean(creds?.me?.id && creds.account);

/** Key file names from Baileys ids: nothing that could leave the directory. */
const fileName = (name: string) => name.replace(/\//g, "__").replace(/:/g, "-");

function parseCreds(text: string): AuthenticationCreds {
  const creds = JSON.parse(text, BufferJSON.reviver) as AuthenticationCreds;
  if (!creds || typeof creds !== "object" || !creds.noiseKey) throw new Error("not a Baileys creds file");
  return creds;
}

/**
 * WhatsApp credentials under `<state>/credentials/whatsapp/` (dir 0700, files 0600).
 * Every write is atomic (temp + rename) and all writes go through one queue, so they
 * land in order; `creds.json` has a backup that is restored if the main file is ever
 * unreadable. A kill -9 at any moment leaves a readable link behind.
 */
export class WhatsAppAuthStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    /** Told when a corrupt creds.json was moved aside and the backup restored. */
    private readonly warn: (note: string) => void = () => {},
  ) {}

  /** Credentials exist and belong to a linked account. */
  isLinked(): boolean {
    try {
      return linkedCreds(this.readCreds());
    } catch {
      return false;
    }
  }

  /**
   * When the link was made, for `authAgeMs`. Stored once at link time; a link made before
   * that file existed gets its creds file's time, recorded once so it stops moving.
   */
  linkedAt(): number | undefined {
    const stored = readJson<{ linkedAt?: number }>(join(this.dir, LINK), {}).linkedAt;
    if (typeof stored === "number") return stored;
    try {
      const at = statSync(join(this.dir, CREDS)).mtimeMs;
      void this.markLinked(at);
      return at;
    } catch {
      return undefined;
    }
  }

  /** Record when the link was made (once per link). */
  markLinked(at = Date.now()): Promise<void> {
    return this.enqueue(() => writeAtomic(join(this.dir, LINK), JSON.stringify({ linkedAt: Math.round(at) })));
  }

  /** Main file, else the backup (restored in place), else null. */
  readCreds(): AuthenticationCreds | null {
    let corrupt = false;
    for (const name of [CREDS, BACKUP]) {
      const path = join(this.dir, name);
      if (!existsSync(path)) continue;
      try {
        const text = readFileSync(path, "utf8");
        const creds = parseCreds(text);
        if (name === BACKUP) {
          // The damaged file is kept aside (evidence), not overwritten by the restore.
          if (corrupt) this.warn(`${moveAside(join(this.dir, CREDS))}; restored WhatsApp credentials from the backup (${BACKUP})`);
          void this.enqueue(() => writeAtomic(join(this.dir, CREDS), text));
        }
        return creds;
      } catch {
        // Corrupt: fall through to the backup.
        if (name === CREDS) corrupt = true;
      }
    }
    if (corrupt) this.warn(`${moveAside(join(this.dir, CREDS))}; no readable backup: link again with clawdis login`);
    return null;
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  async saveCreds(creds: AuthenticationCreds): Promise<void> {
    const text = JSON.stringify(creds, BufferJSON.replacer);
    await this.enqueue(async () => {
      privateDir(this.dir);
      // The previous good file becomes the backup before the new one replaces it.
      if (existsSync(join(this.dir, CREDS))) {
        try {
          const current = await readFile(join(this.dir, CREDS), "utf8");
          parseCreds(current);
          await writeAtomic(join(this.dir, BACKUP), current);
        } catch {}
      }
      await writeAtomic(join(this.dir, CREDS), text);
    });
  }

  /** Baileys' auth state backed by this store. */
  async state(): Promise<{ state: AuthenticationState; saveCreds: () => Promise<void> }> {
    // Writes still queued (pair-success just before a 515 restart) land before the read.
    await this.enqueue(async () => privateDir(this.dir));
    const creds = this.readCreds() ?? initAuthCreds();
    // A half-done pairing-code login left `me` behind: with it Baileys would try to log in
    // instead of registering again.
    if (!linkedCreds(creds)) {
      delete (creds as Partial<AuthenticationCreds>).me;
      delete creds.pairingCode;
    }
    const read = async (name: string) => {
      try {
        return JSON.parse(await readFile(join(this.dir, fileName(name)), "utf8"), BufferJSON.reviver);
      } catch {
        return null;
      }
    };
    return {
      state: {
        creds,
        keys: {
          get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
            const out: { [id: string]: SignalDataTypeMap[T] } = {};
            await Promise.all(
              ids.map(async (id) => {
                let value = await read(`${type}-${id}.json`);
                if (type === "app-state-sync-key" && value) value = proto.Message.AppStateSyncKeyData.fromObject(value);
                out[id] = value;
              }),
            );
            return out;
          },
          set: async (data) => {
            await this.enqueue(async () => {
              for (const category in data) {
                const entries = data[category as keyof typeof data] ?? {};
                for (const id in entries) {
                  const value = (entries as Record<string, unknown>)[id];
                  const path = join(this.dir, fileName(`${category}-${id}.json`));
                  if (value) await writeAtomic(path, JSON.stringify(value, BufferJSON.replacer));
                  else await unlink(path).catch(() => {});
                }
              }
            });
          },
        },
      },
      saveCreds: () => this.saveCreds(creds),
    };
  }

  /** Unlink: remove every credential file. */
  async clear(): Promise<void> {
    await this.enqueue(async () => rmSync(this.dir, { recursive: true, force: true }));
  }
}
