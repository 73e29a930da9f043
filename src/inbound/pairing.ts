import { join } from "node:path";
import { GatewayError, PROVIDERS, type PairingRequest, type ProviderName } from "../protocol/index.ts";
import { privateDir, writeAtomic } from "../core/atomic.ts";
import { readJsonOrAside } from "../store/corrupt.ts";
import type { HeldMessage } from "./approved.ts";

/** Letters and digits without look-alikes: no 0/O, 1/I. 32 symbols, so a random byte maps evenly. */
export const PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const PAIRING_CODE_LENGTH = 8;
export const PAIRING_TTL_MS = 60 * 60_000;
export const PAIRING_MAX_PENDING = 3;
/** Expired requests are remembered this long, so approving one says "expired", not "unknown". */
const EXPIRED_KEPT_MS = 24 * 60 * 60_000;
const MAX_APPROVED = 10_000;

export interface Approved {
  sender: string;
  /** Every id the sender is known by (WhatsApp: the phone JID and the LID), `sender` included. */
  ids?: string[];
  name?: string;
  code: string;
  approvedAt: number;
}

/**
 * A request as stored: with the ids its sender is known by, and `codeUnsent` until the
 * reply holding the code went out (a crash in between leaves it set: the code is sent on
 * the sender's next message instead of never).
 */
type StoredRequest = PairingRequest & { ids?: string[]; codeUnsent?: true; held?: HeldMessage };

interface ProviderState {
  pending: StoredRequest[];
  approved: Approved[];
}

const idsOf = (r: { sender: string; ids?: string[] }): string[] => (r.ids?.length ? r.ids : [r.sender]);
const matches = (r: { sender: string; ids?: string[] }, ids: readonly string[]) => idsOf(r).some((id) => ids.includes(id));
const shownWithIds = ({ codeUnsent: _unsent, ...r }: StoredRequest): StoredRequest => r;
/** The request as the protocol shows it (the ids and the held message stay inside). */
const shown = ({ ids: _ids, codeUnsent: _unsent, held: _held, ...r }: StoredRequest): PairingRequest => r;

/** A fresh 8-character code from the pairing alphabet (crypto random). */
export function newPairingCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(PAIRING_CODE_LENGTH));
  return Array.from(bytes, (b) => PAIRING_ALPHABET[b % PAIRING_ALPHABET.length]).join("");
}

/** The one reply a stranger gets under `dmPolicy: "pairing"`: the code and what the owner does with it. */
export function pairingReplyText(provider: ProviderName, code: string): string {
  return (
    `This assistant only answers people its owner has approved. Your pairing code: ${code}\n` +
    `Send it to the owner, who approves it with: clawdis pairing approve ${provider} ${code} (valid for 1 hour).`
  );
}

/**
 * Strangers waiting for the owner's decision, and the senders approved: one file per
 * provider under `<state>/pairing/` (0600, written atomically), read once at start and
 * kept in memory, so an approval lets the sender in at once.
 */
export class PairingStore {
  private readonly state = new Map<ProviderName, ProviderState>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
    /** Told at start what was unreadable and moved aside. */
    warn: (note: string) => void = () => {},
  ) {
    privateDir(dir);
    for (const p of PROVIDERS) {
      // Missing (nothing paired yet) or unreadable (moved aside, said): start empty rather than refuse to start.
      const raw = readJsonOrAside<Partial<ProviderState>>(this.file(p), (v) => typeof v === "object" && v !== null && !Array.isArray(v), warn);
      this.state.set(p, { pending: Array.isArray(raw?.pending) ? raw.pending : [], approved: Array.isArray(raw?.approved) ? raw.approved : [] });
    }
  }

  private file(provider: ProviderName): string {
    return join(this.dir, `${provider}.json`);
  }

  private live(provider: ProviderName): StoredRequest[] {
    const now = this.now();
    return this.state.get(provider)!.pending.filter((r) => r.expiresAt > now);
  }

  /** Live requests of every provider, oldest first. */
  list(): PairingRequest[] {
    return PROVIDERS.flatMap((p) => this.live(p))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(shown);
  }

  /** The live request of a sender known by any of `ids` (WhatsApp: phone JID and LID). */
  pendingFor(provider: ProviderName, ids: string | readonly string[]): PairingRequest | undefined {
    const want = typeof ids === "string" ? [ids] : ids;
    const r = this.live(provider).find((x) => matches(x, want));
    return r && shown(r);
  }

  /** The code of a live request whose reply never went out (a crash between saving it and sending it). */
  unsentCode(provider: ProviderName, ids: readonly string[]): string | undefined {
    const r = this.live(provider).find((x) => matches(x, ids));
    return r?.codeUnsent ? r.code : undefined;
  }

  /** The reply holding `code` went out. */
  async markCodeSent(provider: ProviderName, code: string): Promise<void> {
    const s = this.state.get(provider)!;
    const r = s.pending.find((x) => x.code === code);
    if (!r?.codeUnsent) return;
    s.pending = s.pending.map((x) => (x === r ? shownWithIds(x) : x));
    await this.save(provider);
  }

  pendingCount(provider: ProviderName): number {
    return this.live(provider).length;
  }

  /** Approved senders of every provider, oldest approval first. */
  approvedList(): (Approved & { provider: ProviderName })[] {
    return PROVIDERS.flatMap((provider) => this.state.get(provider)!.approved.map((a) => ({ provider, ...a }))).sort((a, b) => a.approvedAt - b.approvedAt);
  }

  /** Whether a sender known by any of `ids` was approved (a phone JID approval still matches once only the LID is seen, and back). */
  isApproved(provider: ProviderName, ids: string | readonly string[]): boolean {
    const want = typeof ids === "string" ? [ids] : ids;
    return this.state.get(provider)!.approved.some((a) => matches(a, want));
  }

  /**
   * An approved sender seen under an id not stored yet (WhatsApp: the phone number became
   * known behind a LID, or the reverse): remember it too, so either matches from now on.
   */
  async learn(provider: ProviderName, ids: readonly string[]): Promise<void> {
    const s = this.state.get(provider)!;
    const a = s.approved.find((x) => matches(x, ids));
    if (!a || ids.every((id) => idsOf(a).includes(id))) return;
    const merged = { ...a, ids: [...new Set([...idsOf(a), ...ids])].slice(0, 8) };
    s.approved = s.approved.map((x) => (x === a ? merged : x));
    await this.save(provider);
  }

  /** Record a new request (the caller decided one is due: see `decide`). */
  async add(provider: ProviderName, sender: string, code: string, name?: string, ids: readonly string[] = [sender], held?: HeldMessage): Promise<PairingRequest> {
    const createdAt = this.now();
    const all = [...new Set([sender, ...ids])];
    const req: StoredRequest = {
      provider,
      code,
      sender,
      ...(name ? { name } : {}),
      createdAt,
      expiresAt: createdAt + PAIRING_TTL_MS,
      ...(all.length > 1 ? { ids: all } : {}),
      codeUnsent: true,
      ...(held ? { held } : {}),
    };
    const s = this.state.get(provider)!;
    s.pending = [...s.pending.filter((r) => !matches(r, all)), req];
    await this.save(provider);
    return shown(req);
  }

  /**
   * Let the sender of `code` in, for good (until revoked), with the message that got them
   * the code (`held`). Unknown or expired codes: INVALID_REQUEST naming the code.
   */
  async approve(provider: ProviderName, code: string): Promise<Approved & { provider: ProviderName; held?: HeldMessage }> {
    const req = this.take(provider, code);
    const s = this.state.get(provider)!;
    if (s.approved.length >= MAX_APPROVED) {
      throw new GatewayError("UNAVAILABLE", `${provider}: ${MAX_APPROVED} approved senders already; add them to ${provider}.allowFrom instead`);
    }
    const approved: Approved = { sender: req.sender, ...(req.ids ? { ids: req.ids } : {}), ...(req.name ? { name: req.name } : {}), code: req.code, approvedAt: this.now() };
    s.approved = [...s.approved.filter((a) => !matches(a, idsOf(req))), approved];
    s.pending = s.pending.filter((r) => r !== req);
    await this.save(provider);
    return { provider, ...approved, ...(req.held ? { held: req.held } : {}) };
  }

  /**
   * Take an approval back: the sender (by any id it is known by; a WhatsApp `+phone`
   * too) is a stranger again from their next message. Unknown: INVALID_REQUEST naming it.
   */
  async revoke(provider: ProviderName, sender: string): Promise<Approved & { provider: ProviderName }> {
    const s = this.state.get(provider)!;
    const want = sender.trim();
    const phone = provider === "whatsapp" && /^\+\d+$/.test(want) ? `${want.slice(1)}@s.whatsapp.net` : undefined;
    const a = s.approved.find((x) => matches(x, phone ? [want, phone] : [want]));
    if (!a) {
      throw new GatewayError("INVALID_REQUEST", `no approved sender "${sender}" for ${provider}; list them with \`clawdis pairing approved\``, {
        details: { field: "params.sender", provider, sender },
      });
    }
    s.approved = s.approved.filter((x) => x !== a);
    await this.save(provider);
    return { provider, ...a };
  }

  /** Drop a request; its sender gets nothing. */
  async reject(provider: ProviderName, code: string): Promise<{ provider: ProviderName; code: string; sender: string }> {
    const req = this.take(provider, code);
    const s = this.state.get(provider)!;
    s.pending = s.pending.filter((r) => r !== req);
    await this.save(provider);
    return { provider, code: req.code, sender: req.sender };
  }

  /** The live request with this code (case-insensitive), or a typed error that says why not. */
  private take(provider: ProviderName, code: string): StoredRequest {
    const want = code.trim().toUpperCase();
    const req = this.state.get(provider)!.pending.find((r) => r.code === want);
    const details = { field: "params.code", provider, code };
    if (!req) {
      throw new GatewayError("INVALID_REQUEST", `no pairing request with code "${code}" for ${provider}; list them with \`clawdis pairing list\``, {
        details: { ...details, reason: "unknown" },
      });
    }
    if (req.expiresAt <= this.now()) {
      throw new GatewayError(
        "INVALID_REQUEST",
        `pairing code "${code}" for ${provider} expired at ${new Date(req.expiresAt).toISOString()}; the sender gets a new one by writing again`,
        { details: { ...details, reason: "expired" } },
      );
    }
    return req;
  }

  /** Write one provider's file; writes are serialized so the last state always wins. */
  private save(provider: ProviderName): Promise<void> {
    const s = this.state.get(provider)!;
    const cutoff = this.now() - EXPIRED_KEPT_MS;
    const now = this.now();
    // An expired request's held message can no longer be answered: its text is not kept.
    s.pending = s.pending.filter((r) => r.expiresAt > cutoff).map(({ held, ...r }) => (held && r.expiresAt > now ? { ...r, held } : r));
    const run = this.chain.then(() => writeAtomic(this.file(provider), `${JSON.stringify(this.state.get(provider), null, 2)}\n`));
    this.chain = run.catch(() => {});
    return run;
  }
}
