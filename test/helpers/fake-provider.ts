/** An in-process Telegram provider for unit tests of the inbound path: it keeps what it was asked to send. */
import type { SendResult } from "../../src/protocol/index.ts";
import type { Provider, ProviderSendParams } from "../../src/providers/index.ts";

export class FakeTelegram implements Provider {
  readonly name = "telegram" as const;
  sent: ProviderSendParams[] = [];
  async start() {}
  async stop() {}
  status() {
    return { linked: true, connected: true };
  }
  async send(p: ProviderSendParams): Promise<SendResult> {
    this.sent.push(p);
    return { provider: "telegram", to: p.to, messageId: String(this.sent.length), ts: Date.now() };
  }
}
