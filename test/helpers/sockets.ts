/** WebSocket subclasses that play a bad network for client tests. */

/** A WebSocket that loses chosen incoming frames, like a network that dropped them. */
export function lossyWebSocket(drop: (frame: any) => boolean): typeof WebSocket {
  return class extends WebSocket {
    set onmessage(fn: ((ev: MessageEvent) => void) | null) {
      super.onmessage = fn
        ? (ev: MessageEvent) => {
            if (!drop(JSON.parse(String(ev.data)))) fn.call(this, ev);
          }
        : null;
    }
    get onmessage() {
      return super.onmessage;
    }
  } as unknown as typeof WebSocket;
}

/** A WebSocket the test can cut, as a network would; `cut()` drops the newest one. */
export function cuttableWebSocket(): { WS: typeof WebSocket; cut: () => void } {
  const sockets: WebSocket[] = [];
  const WS = class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  } as unknown as typeof WebSocket;
  return { WS, cut: () => sockets.at(-1)!.close(4999, "cut") };
}
