import { GatewayError } from "../../protocol/index.ts";
import type { GatewayContext } from "../context.ts";
import type { Handler } from "./types.ts";

/**
 * Linking WhatsApp goes through the running gateway (it owns the only socket):
 * `web.login.start` returns the first QR code (or a pairing code), `web.login.wait`
 * returns when the phone has linked, or with the newest QR code when it rotated.
 */
interface LoginSession {
  qr: string | null;
  qrVersion: number;
  linked: boolean;
  /** Why the login ended without a link (QR codes ran out, WhatsApp refused…). */
  ended: string | null;
  waiters: Set<() => void>;
}

const sessions = new WeakMap<GatewayContext, LoginSession>();

function wake(s: LoginSession): void {
  for (const w of [...s.waiters]) w();
}

function waitChange(s: LoginSession, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (changed: boolean) => {
      clearTimeout(t);
      s.waiters.delete(w);
      resolve(changed);
    };
    const w = () => done(true);
    const t = setTimeout(() => done(false), timeoutMs);
    s.waiters.add(w);
  });
}

export const webLoginStart: Handler<"web.login.start"> = async (params, { gw }) => {
  const wa = await gw.whatsapp();
  if (wa.status().linked && wa.status().connected) return { alreadyLinked: true };
  const s: LoginSession = { qr: null, qrVersion: 0, linked: false, ended: null, waiters: new Set() };
  sessions.set(gw, s);
  const { pairingCode } = await wa.beginLogin(
    {
      onQr: (qr) => {
        s.qr = qr;
        s.qrVersion += 1;
        wake(s);
      },
      onLinked: () => {
        s.linked = true;
        wake(s);
      },
      onEnded: (reason) => {
        s.ended = reason;
        wake(s);
      },
    },
    params.pairingPhone,
  );
  if (pairingCode) return { pairingCode };
  if (!s.qr && !s.ended && !s.linked && !(await waitChange(s, 20_000))) {
    throw new GatewayError("UNAVAILABLE", "WhatsApp sent no QR code within 20 s; check the network and try again", { retryable: true });
  }
  if (s.linked) return { alreadyLinked: true };
  if (!s.qr) throw loginEnded(s);
  return { qr: s.qr };
};

const loginEnded = (s: LoginSession) =>
  new GatewayError("UNAVAILABLE", `WhatsApp login ended: ${s.ended ?? "no QR code"}; run clawdis login again`, { retryable: true });

export const webLoginWait: Handler<"web.login.wait"> = async (params, { gw }) => {
  const s = sessions.get(gw);
  if (!s) throw new GatewayError("INVALID_REQUEST", "no login in progress: call web.login.start first");
  if (s.linked) return { linked: true };
  const version = s.qrVersion;
  const end = Date.now() + (params.timeoutMs ?? 60_000);
  while (!s.linked && !s.ended && s.qrVersion === version && Date.now() < end) await waitChange(s, end - Date.now());
  if (s.linked) return { linked: true };
  if (s.ended) throw loginEnded(s);
  return s.qrVersion !== version && s.qr ? { linked: false, qr: s.qr } : { linked: false };
};

export const webLogout: Handler<"web.logout"> = async (_params, { gw }) => {
  const wa = await gw.whatsapp();
  await wa.logout();
  return { linked: false };
};
