/**
 * A local Telegram Bot API server for grammY (`apiRoot`). Long-polling `getUpdates`
 * honours `offset` and `timeout`; sends are recorded. Faults can be queued: a 409 for
 * the next getUpdates calls, a 429 with retry_after for the next sends or polls, polls
 * that never answer (a dead connection).
 */
export interface BotCall {
  method: string;
  params: Record<string, unknown>;
  files: Record<string, { name: string; size: number; type: string }>;
  at: number;
  /** The HTTP status a scripted send fault answered with (absent: answered as usual). */
  faulted?: number;
}

export interface FakeBotApi {
  apiRoot: string;
  token: string;
  calls: BotCall[];
  /** Queue a text message from a user (`extra` is merged into the message, e.g. a forum chat and thread). Returns its update_id. */
  userSays(text: string, from?: { id: number; username?: string }, chatId?: number, extra?: Record<string, unknown>): number;
  /** A user reacts to a message (update `message_reaction`). Returns its update_id. */
  react(chatId: number, messageId: number, emoji: string, from?: { id: number; username?: string }): number;
  /** The user edits the message an earlier `userSays` update carried (update `edited_message`). Returns its update_id. */
  edits(updateId: number, text: string): number;
  /** Deliver an update's message again (as a provider replay would), under a new update id. */
  replay(updateId: number): number;
  /** The same as `edits`. */
  userEdits(updateId: number, text: string): number;
  /** Every getUpdates offset seen, in order. */
  offsets: number[];
  conflicts: number;
  rateLimits: { count: number; retryAfter: number };
  /**
   * Answers for the next sends (sendMessage, sendPhoto…; not sendChatAction), in order,
   * before they reach the chat: an outage's 5xx (`html: true`: a proxy's HTML error page,
   * as Telegram's front end serves during one), a 429 with `retryAfter`, a 403 blocked…
   */
  sendFaults: { status: number; description?: string; retryAfter?: number; html?: boolean }[];
  /** 429s with retry_after for the next getUpdates calls. */
  pollRateLimits: { count: number; retryAfter: number };
  /** The next getUpdates calls never answer (until the client gives up). */
  stalledPolls: number;
  /** The next sends with a `parse_mode` are refused 400 "can't parse entities", as Telegram refuses bad markup. */
  parseErrors: number;
  /** The bot itself, as getMe answers (`canReadAll`: privacy mode off; default on, as BotFather sets it). */
  me: { id: number; username: string; canReadAll?: boolean };
  /** Store a file the way Telegram keeps uploads: returns its file_id (getFile + `/file/bot<token>/<path>` serve it). */
  addFile(data: Uint8Array, path?: string): string;
  /** File downloads served, by path. */
  downloads: string[];
  sent(method?: string): BotCall[];
  waitFor(pred: (c: BotCall) => boolean, timeoutMs?: number): Promise<BotCall>;
  stop(): void;
}

export function startFakeBotApi(token = "123456:TEST-token"): FakeBotApi {
  const updates: ({ update_id: number; message: Record<string, unknown> } | { update_id: number; message_reaction: Record<string, unknown> } | { update_id: number; edited_message: Record<string, unknown> })[] = [];
  const history = new Map<number, Record<string, unknown>>();
  let nextUpdate = 1000;
  let nextMessage = 1;
  const pollers = new Set<() => void>();
  const stored = new Map<string, { path: string; data: Uint8Array }>();
  const state = {
    apiRoot: "",
    token,
    calls: [] as BotCall[],
    offsets: [] as number[],
    conflicts: 0,
    rateLimits: { count: 0, retryAfter: 1 },
    sendFaults: [] as FakeBotApi["sendFaults"],
    pollRateLimits: { count: 0, retryAfter: 1 },
    stalledPolls: 0,
    parseErrors: 0,
    me: { id: 1, username: "clawdis_test_bot" } as FakeBotApi["me"],
    downloads: [] as string[],
    addFile(data: Uint8Array, path = `photos/file_${stored.size}.jpg`) {
      const id = `FILE${stored.size + 1}`;
      stored.set(id, { path, data });
      return id;
    },
    userSays(text: string, from = { id: 4242, username: "alice" }, chatId = from.id, extra: Record<string, unknown> = {}) {
      const id = nextUpdate++;
      const message = { message_id: nextMessage++, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: "private" }, from: { ...from, is_bot: false, first_name: "A" }, text, ...extra };
      history.set(id, message);
      updates.push({ update_id: id, message });
      for (const wake of [...pollers]) wake();
      return id;
    },
    react(chatId: number, messageId: number, emoji: string, from = { id: 4242, username: "alice" }) {
      const id = nextUpdate++;
      const message_reaction = {
        chat: { id: chatId, type: chatId > 0 ? "private" : "supergroup" },
        message_id: messageId,
        user: { ...from, is_bot: false, first_name: "A" },
        date: Math.floor(Date.now() / 1000),
        old_reaction: [],
        new_reaction: [{ type: "emoji", emoji }],
      };
      updates.push({ update_id: id, message_reaction });
      for (const wake of [...pollers]) wake();
      return id;
    },
    edits(updateId: number, text: string) {
      const id = nextUpdate++;
      // Each edit of one message gets its own edit_date, as Telegram's do.
      const edited_message = { ...history.get(updateId)!, text, edit_date: Math.floor(Date.now() / 1000) + (id % 1000) };
      updates.push({ update_id: id, edited_message });
      for (const wake of [...pollers]) wake();
      return id;
    },
    userEdits(updateId: number, text: string) {
      return state.edits(updateId, text);
    },
    replay(updateId: number) {
      const id = nextUpdate++;
      updates.push({ update_id: id, message: history.get(updateId)! });
      for (const wake of [...pollers]) wake();
      return id;
    },
    sent(method?: string) {
      // Messages sent; chat actions ("typing") only when asked for by name.
      return state.calls.filter((c) => c.method.startsWith("send") && (method ? c.method === method : c.method !== "sendChatAction"));
    },
    async waitFor(pred: (c: BotCall) => boolean, timeoutMs = 5_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = state.calls.find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`fake Bot API: no matching call in ${timeoutMs} ms; calls: ${state.calls.map((c) => c.method).join(",")}`);
        await Bun.sleep(10);
      }
    },
    stop: () => server.stop(true),
  };
  const ok = (result: unknown) => Response.json({ ok: true, result });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const pathname = new URL(req.url).pathname;
      const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(pathname);
      if (file) {
        const hit = [...stored.values()].find((f) => f.path === file[2]);
        if (file[1] !== token || !hit) return new Response("not found", { status: 404 });
        state.downloads.push(hit.path);
        return new Response(hit.data as unknown as BodyInit, { headers: { "content-type": "application/octet-stream" } });
      }
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(pathname);
      if (!m) return new Response("not found", { status: 404 });
      if (m[1] !== token) return Response.json({ ok: false, error_code: 401, description: "Unauthorized" }, { status: 401 });
      const method = m[2]!;
      const params: Record<string, unknown> = {};
      const files: BotCall["files"] = {};
      const type = req.headers.get("content-type") ?? "";
      if (type.includes("multipart/form-data")) {
        const form = await req.formData();
        for (const [k, v] of form.entries()) {
          if (typeof v === "string") params[k] = /^[\[{]/.test(v) ? JSON.parse(v) : v;
          else {
            const f = v as unknown as File;
            files[k] = { name: f.name, size: f.size, type: f.type };
          }
        }
      } else if (type.includes("json")) Object.assign(params, await req.json());
      state.calls.push({ method, params, files, at: Date.now() });
      switch (method) {
        case "getMe":
          return ok({ id: state.me.id, is_bot: true, first_name: "Clawdis", username: state.me.username, can_read_all_group_messages: state.me.canReadAll ?? false });
        case "sendChatAction":
          return ok(true);
        case "getFile": {
          const f = stored.get(String(params.file_id));
          if (!f) return Response.json({ ok: false, error_code: 400, description: "Bad Request: invalid file_id" }, { status: 400 });
          return ok({ file_id: params.file_id, file_unique_id: `U${params.file_id}`, file_size: f.data.byteLength, file_path: f.path });
        }
        case "deleteWebhook":
          return ok(true);
        case "getUpdates": {
          if (state.conflicts > 0) {
            state.conflicts -= 1;
            return Response.json(
              { ok: false, error_code: 409, description: "Conflict: terminated by other getUpdates request" },
              { status: 409 },
            );
          }
          if (state.pollRateLimits.count > 0) {
            state.pollRateLimits.count -= 1;
            return Response.json(
              { ok: false, error_code: 429, description: "Too Many Requests: retry later", parameters: { retry_after: state.pollRateLimits.retryAfter } },
              { status: 429 },
            );
          }
          if (state.stalledPolls > 0) {
            state.stalledPolls -= 1;
            await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
            return new Response("gone", { status: 499 });
          }
          const offset = Number(params.offset ?? 0);
          state.offsets.push(offset);
          // Confirming an offset forgets everything before it, as the real server does.
          while (updates.length && updates[0]!.update_id < offset) updates.shift();
          if (updates.length === 0 && Number(params.timeout ?? 0) > 0) {
            await new Promise<void>((resolve) => {
              const wake = () => (pollers.delete(wake), clearTimeout(t), resolve());
              const t = setTimeout(wake, Number(params.timeout) * 1000);
              pollers.add(wake);
              req.signal.addEventListener("abort", wake);
            });
          }
          return ok(updates.filter((u) => u.update_id >= offset));
        }
        default:
          if (method.startsWith("send")) {
            if (String(params.chat_id) === "hang") {
              // A provider that never answers: the client gives up or dies first.
              await new Promise<void>((resolve) => req.signal.addEventListener("abort", () => resolve()));
              return new Response("gone", { status: 499 });
            }
            if (String(params.chat_id) === "400") {
              return Response.json({ ok: false, error_code: 400, description: "Bad Request: chat not found" }, { status: 400 });
            }
            if (params.parse_mode && state.parseErrors > 0) {
              state.parseErrors -= 1;
              return Response.json({ ok: false, error_code: 400, description: "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0" }, { status: 400 });
            }
            const fault = method !== "sendChatAction" ? state.sendFaults.shift() : undefined;
            if (fault) {
              state.calls.at(-1)!.faulted = fault.status;
              const statusText = fault.description ?? (fault.status === 502 ? "Bad Gateway" : fault.status === 500 ? "Internal Server Error" : "Error");
              if (fault.html) {
                const page = `<html>\r\n<head><title>${fault.status} ${statusText}</title></head>\r\n<body>\r\n<center><h1>${fault.status} ${statusText}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
                return new Response(page, { status: fault.status, statusText, headers: { "content-type": "text/html" } });
              }
              const parameters = fault.retryAfter !== undefined ? { parameters: { retry_after: fault.retryAfter } } : {};
              return Response.json({ ok: false, error_code: fault.status, description: statusText, ...parameters }, { status: fault.status });
            }
            if (state.rateLimits.count > 0) {
              state.rateLimits.count -= 1;
              return Response.json(
                { ok: false, error_code: 429, description: "Too Many Requests: retry later", parameters: { retry_after: state.rateLimits.retryAfter } },
                { status: 429 },
              );
            }
            const from = { id: state.me.id, is_bot: true, first_name: "Clawdis", username: state.me.username };
            return ok({ message_id: nextMessage++, date: Math.floor(Date.now() / 1000), chat: { id: Number(params.chat_id), type: "private" }, from, text: params.text });
          }
          return Response.json({ ok: false, error_code: 400, description: `fake: ${method} not supported` }, { status: 400 });
      }
    },
  });
  state.apiRoot = `http://127.0.0.1:${server.port}`;
  return state;
}
