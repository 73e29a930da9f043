import { proto, type WAMessageKey } from "@whiskeysockets/baileys";
import { JsonlFile } from "../../store/jsonl.ts";

/** A recipient's phone asks for a message again within about a day. */
const KEEP_MS = 24 * 3_600_000;
/** Sends kept at most (a busy day); the file is rewritten when it holds twice as many lines. */
const MAX_KEPT = 5_000;

interface Line {
  id: string;
  at: number;
  message: Record<string, unknown>;
}

/**
 * The messages this gateway sent in the last 24 h, on disk (`<state>/whatsapp/sent.jsonl`,
 * 0600), behind Baileys' `getMessage` (issue 21 §8): a recipient whose phone failed to
 * decrypt one asks for it again — also after a restart — and gets it, instead of
 * "waiting for this message". Message text lives here for a day; the file is the user's own outbox.
 * The same record tells our own sends from input: WhatsApp shows them back to us (another
 * device's sync, the offline queue after a reconnect), and in the self chat they would look
 * like the owner writing.
 */
export class SentStore {
  private readonly items = new Map<string, { at: number; message: Record<string, unknown> }>();
  /** The project's one JSON-lines store: a write cut short by a full disk never glues two records together. */
  private readonly file: JsonlFile<Line>;

  constructor(path: string, onRepair?: (note: string) => void) {
    this.file = new JsonlFile<Line>(path, onRepair ? { onRepair } : {});
    try {
      this.file.open();
      for (const l of this.file.readAll()) {
        if (typeof l?.id === "string" && typeof l.at === "number" && l.message) this.items.set(l.id, { at: l.at, message: l.message });
      }
    } catch {} // unreadable: nothing remembered, answered from memory from now on
    this.compact();
  }

  add(key: WAMessageKey | undefined, message: proto.IMessage | null | undefined): void {
    if (!key?.id || !message) return;
    // JSON-safe: bytes as base64, longs as numbers; `fromObject` reads them back.
    const plain = proto.Message.toObject(proto.Message.fromObject(message), { bytes: String, longs: Number }) as Record<string, unknown>;
    const at = Date.now();
    this.items.delete(key.id);
    this.items.set(key.id, { at, message: plain });
    // Disk trouble: still answered from memory until a restart.
    void this.file.append({ id: key.id, at, message: plain }).catch(() => {});
    if (this.file.lineCount > 2 * MAX_KEPT) this.compact();
  }

  /** Whether this gateway sent the message with this id (kept a day, across restarts). */
  has(id: string): boolean {
    return this.items.has(id);
  }

  get = async (key: WAMessageKey): Promise<proto.IMessage | undefined> => {
    const hit = key.id ? this.items.get(key.id) : undefined;
    if (!hit || Date.now() - hit.at > KEEP_MS) return undefined;
    return proto.Message.fromObject(hit.message);
  };

  /** Drop what is older than a day or past the bound, and rewrite the file with the rest. */
  private compact(): void {
    const now = Date.now();
    for (const [id, v] of this.items) if (now - v.at > KEEP_MS) this.items.delete(id);
    while (this.items.size > MAX_KEPT) this.items.delete(this.items.keys().next().value!);
    void this.file.rewrite([...this.items].map(([id, v]) => ({ id, at: v.at, message: v.message }))).catch(() => {});
  }
}
