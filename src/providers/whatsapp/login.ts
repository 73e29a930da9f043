import { GatewayError } from "../../protocol/index.ts";
import type { WaSocketLike } from "./socket.ts";

export type LoginListener = { onQr?: (qr: string) => void; onLinked?: () => void; onEnded?: (reason: string) => void };
type Pairing = { phone: string; requested: boolean; resolve: (code: string) => void; reject: (err: Error) => void };

/**
 * One login under way (`web.login`): its listener (QR codes, linked, ended) and, with a
 * phone number, the pairing code it waits for. A newer login replaces an older one.
 */
export class WhatsAppLogin {
  private listener: LoginListener | null = null;
  private pairing: Pairing | null = null;

  constructor(private readonly pairingTimeoutMs: number) {}

  /** Take over from any earlier login; with `phone`, the promise of its pairing code. */
  begin(listener: LoginListener, phone?: string): Promise<string> | null {
    this.pairing?.reject(new GatewayError("UNAVAILABLE", "a newer login replaced this one", { retryable: true }));
    this.listener = listener;
    return phone ? this.awaitPairing(phone.replace(/[^0-9]/g, "")) : null;
  }

  private awaitPairing(phone: string): Promise<string> {
    const ms = this.pairingTimeoutMs;
    return new Promise<string>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new GatewayError("UNAVAILABLE", `WhatsApp sent no pairing code within ${ms / 1000} s; check the network and try again`, { retryable: true })),
        ms,
      );
      const settle = () => (clearTimeout(t), (this.pairing = null));
      this.pairing = { phone, requested: false, resolve: (c) => (settle(), resolve(c)), reject: (e) => (settle(), reject(e)) };
    });
  }

  /**
   * A `qr` update: shown to the listener, or — with a phone — the sign that the handshake
   * is done, so the pairing code is requested now (WhatsApp refuses it earlier, with 428).
   */
  onQr(sock: WaSocketLike, qr: string): void {
    const pairing = this.pairing;
    if (!pairing) return this.listener?.onQr?.(qr);
    if (pairing.requested) return;
    pairing.requested = true;
    sock.requestPairingCode(pairing.phone).then(pairing.resolve, (err: Error) =>
      pairing.reject(new GatewayError("UNAVAILABLE", `WhatsApp refused the pairing-code request: ${err.message}`, { retryable: true })),
    );
  }

  /** The link opened: the login is done. */
  linked(): void {
    this.listener?.onLinked?.();
    this.listener = null;
  }

  /** WhatsApp stopped for good (`stopped` says why): the login ends with it. */
  ended(stopped: string): void {
    this.listener?.onEnded?.(stopped);
    this.listener = null;
    this.pairing?.reject(new GatewayError("UNAVAILABLE", `WhatsApp closed the login: ${stopped}`, { retryable: true }));
  }
}
