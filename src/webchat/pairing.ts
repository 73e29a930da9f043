import * as v from "valibot";
import type { GatewayClient } from "../client/index.ts";
import { PairingRequestSchema, type PairingRequest, type ProviderName } from "../protocol/index.ts";

/** How often the relay re-reads `pairing.list` while a tab is open (the gateway pushes no event for it). */
export const PAIRING_POLL_MS = 5_000;
/** The gateway keeps at most 3 per provider; anything past this is not a list a page should draw. */
const MAX_REQUESTS = 100;

/**
 * `pairing.list`'s result as one typed list, whichever shape the gateway answers with:
 * the bare array (issue 16) or the older `{requests: [...]}`. Entries that do not match
 * the schema are dropped rather than drawn.
 */
export function toPairingList(result: unknown): PairingRequest[] {
  const raw: unknown = Array.isArray(result) ? result : (result as { requests?: unknown } | null)?.requests;
  if (!Array.isArray(raw)) return [];
  const out: PairingRequest[] = [];
  for (const entry of raw.slice(0, MAX_REQUESTS)) {
    const parsed = v.safeParse(PairingRequestSchema, entry);
    if (parsed.success) out.push(parsed.output);
  }
  return out;
}

/**
 * The relay's copy of the pairing list: read on every (re)connect, re-read every
 * PAIRING_POLL_MS while a tab is open and after every decision, and published to the
 * tabs only when it changed. One read at a time: callers meanwhile share it.
 */
export class PairingWatch {
  private list: PairingRequest[] | null = null;
  private shown = "";
  private reading: Promise<PairingRequest[]> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly client: GatewayClient,
    private readonly publish: (requests: PairingRequest[]) => void,
    private readonly pollMs = PAIRING_POLL_MS,
  ) {}

  /** The last list read; null before the first read. */
  get current(): PairingRequest[] | null {
    return this.list;
  }

  /** Whether the connected gateway has the pairing methods (an older one does not). */
  private get supported(): boolean {
    return this.client.hello?.features.methods.includes("pairing.list") ?? false;
  }

  /** Read the list now; tabs hear of it when it changed. */
  refresh(): Promise<PairingRequest[]> {
    this.reading ??= this.client
      .request("pairing.list")
      .then((result: unknown) => {
        const list = toPairingList(result);
        this.list = list;
        const text = JSON.stringify(list);
        if (text !== this.shown) {
          this.shown = text;
          this.publish(list);
        }
        return list;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  /** Approve or reject; the list is re-read at once so every tab drops the request. */
  async decide(method: "pairing.approve" | "pairing.reject", provider: ProviderName, code: string): Promise<unknown> {
    try {
      return await this.client.request(method, { provider, code });
    } finally {
      this.refresh().catch(() => {});
    }
  }

  /** Poll while `wanted` (some tab is open) and the gateway has the methods. */
  poll(wanted: boolean): void {
    if (wanted && !this.timer && this.supported) {
      this.refresh().catch(() => {});
      this.timer = setInterval(() => {
        if (this.client.state === "open") this.refresh().catch(() => {});
      }, this.pollMs);
      (this.timer as { unref?: () => void }).unref?.();
    } else if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** A (re)connect: the gateway may be another one, with other requests (or only now the methods). */
  reconnected(wanted: boolean): void {
    this.poll(false);
    this.poll(wanted);
  }
}
