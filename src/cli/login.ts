import { defineCommand } from "citty";
import { connectArgs } from "./connect.ts";
import { CliExit, Exit, handled } from "./errors.ts";

/** A gateway running for this state dir, from its lock file: its port and the address it is bound to. */
async function runningGateway(): Promise<{ url: string } | null> {
  const { liveHolderUrl } = await import("../gateway/lock.ts");
  const { resolveStateDir, statePaths } = await import("../paths.ts");
  const url = liveHolderUrl(statePaths(resolveStateDir()).lock);
  return url ? { url } : null;
}

async function printQr(qr: string): Promise<void> {
  const QRCode = (await import("qrcode")).default;
  const art = await QRCode.toString(qr, { type: "terminal", small: true });
  process.stdout.write(`\nScan this in WhatsApp → Settings → Linked devices → Link a device:\n${art}\n`);
}

const UNREACHABLE = /cannot reach WhatsApp \([^)]*\) — check the network/;

/**
 * Why linking failed: WhatsApp unreachable is a connection failure (exit 3, the network
 * named), not a QR timeout; else the reason the login ended, or the wait that ran out.
 */
function loginFailed(ended: string | undefined, waitMs: number): CliExit {
  const net = ended ? UNREACHABLE.exec(ended) : null;
  if (net) return new CliExit(Exit.CONNECT, net[0]);
  return new CliExit(Exit.FAILURE, ended ? `${ended}; run clawdis login again` : `not linked within ${waitMs / 1000} s; run clawdis login again`);
}

export const login = defineCommand({
  meta: {
    name: "login",
    description:
      "Link a WhatsApp account: scan the QR code drawn in the terminal (or use a pairing code). Exits 0 once linked.\n" +
      "With a gateway running for this state dir, linking goes through it (it owns the only WhatsApp socket).\n\n" +
      "Examples:\n" +
      "  clawdis login\n" +
      "  clawdis login --pairing-code +15551234567\n" +
      "  clawdis login --url ws://127.0.0.1:18789 --token s3cret",
  },
  args: {
    "pairing-code": { type: "string", description: "Link by pairing code for this phone number instead of a QR code" },
    "wait-seconds": { type: "string", description: "Give up after this long (default 180)" },
    ...connectArgs,
  },
  run: ({ args }) =>
    handled(async () => {
      const waitMs = Number(args["wait-seconds"] ?? 180) * 1000;
      if (!Number.isFinite(waitMs) || waitMs <= 0) throw new CliExit(Exit.USAGE, `--wait-seconds: expected a number > 0, got ${JSON.stringify(args["wait-seconds"])}`);
      const phone = args["pairing-code"];
      const gateway = args.url ? { url: args.url } : await runningGateway();
      if (gateway) {
        const { withClient } = await import("./connect.ts");
        await withClient({ ...args, url: gateway.url, timeout: String(Math.max(30_000, waitMs)) }, async (client) => {
          const start = await client.request("web.login.start", phone ? { pairingPhone: phone } : {}).catch((err: Error) => {
            throw UNREACHABLE.test(err.message) ? loginFailed(err.message, waitMs) : err;
          });
          if (start.alreadyLinked) return void console.log("WhatsApp is already linked.");
          if (start.pairingCode) console.log(`Enter this code in WhatsApp → Linked devices → Link with phone number: ${start.pairingCode}`);
          if (start.qr) await printQr(start.qr);
          const end = Date.now() + waitMs;
          while (Date.now() < end) {
            const res = await client.request("web.login.wait", { timeoutMs: Math.min(60_000, end - Date.now()) }, { timeoutMs: 70_000 });
            if (res.linked) return void console.log("WhatsApp linked. The gateway is connected.");
            if (res.qr) await printQr(res.qr);
          }
          throw new CliExit(Exit.FAILURE, `not linked within ${waitMs / 1000} s; run clawdis login again`);
        });
        return;
      }
      // No gateway: this process opens the socket, links, saves the credentials and exits.
      const { WhatsAppProvider } = await import("../providers/whatsapp/index.ts");
      const { resolveStateDir, statePaths } = await import("../paths.ts");
      const { createLogger } = await import("../log.ts");
      const log = createLogger({ stdoutLevel: "warn", write: (l) => process.stderr.write(l) });
      let linked!: () => void;
      let ended: string | undefined;
      const done = new Promise<void>((r) => (linked = r));
      const wa = new WhatsAppProvider(
        { credsDir: statePaths(resolveStateDir()).whatsappCreds },
        { stateDir: resolveStateDir(), log, onInbound: () => {}, onStatus: () => {} },
      );
      const onEnded = (reason: string) => ((ended = reason), linked());
      const { pairingCode } = await wa.beginLogin({ onQr: (qr) => void printQr(qr), onLinked: () => linked(), onEnded }, phone);
      if (pairingCode) console.log(`Enter this code in WhatsApp → Linked devices → Link with phone number: ${pairingCode}`);
      const timer = setTimeout(() => linked(), waitMs);
      await done;
      clearTimeout(timer);
      const ok = wa.status().linked;
      // Give Baileys a moment to write the final credentials before closing.
      await new Promise((r) => setTimeout(r, 1_000));
      await wa.stop();
      if (!ok) throw loginFailed(ended, waitMs);
      console.log(`WhatsApp linked; credentials saved in ${statePaths(resolveStateDir()).whatsappCreds}`);
    }),
});

export const logout = defineCommand({
  meta: {
    name: "logout",
    description:
      "Unlink WhatsApp and remove its credentials (through the running gateway when there is one).\n\nExamples:\n  clawdis logout",
  },
  args: connectArgs,
  run: ({ args }) =>
    handled(async () => {
      const gateway = args.url ? { url: args.url } : await runningGateway();
      if (gateway) {
        const { withClient } = await import("./connect.ts");
        await withClient({ ...args, url: gateway.url }, async (client) => {
          await client.request("web.logout");
        });
        console.log("WhatsApp unlinked; credentials removed.");
        return;
      }
      const { rmSync, existsSync } = await import("node:fs");
      const { resolveStateDir, statePaths } = await import("../paths.ts");
      const dir = statePaths(resolveStateDir()).whatsappCreds;
      if (!existsSync(dir)) return void console.log("WhatsApp is not linked.");
      rmSync(dir, { recursive: true, force: true });
      console.log(`Removed ${dir}. If the device is still listed in WhatsApp → Linked devices, remove it there too.`);
    }),
});
