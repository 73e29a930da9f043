/** A full disk (a real 1 MiB tmpfs filled to the brim) never leaves a torn record behind. */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ledger } from "../../src/gateway/ledger.ts";
import { JsonlFile } from "../../src/store/jsonl.ts";
import { DiskWatch } from "../../src/store/disk-full.ts";
import { mountSmallFs, type SmallFs } from "../helpers/tmpfs.ts";
import { Delivery } from "../../src/delivery/index.ts";
import { silentLogger } from "../../src/log.ts";
import type { SendParams, SendResult } from "../../src/protocol/index.ts";
import { Providers, type Provider } from "../../src/providers/index.ts";
import { until } from "../helpers/until.ts";

const fs = mountSmallFs();
const skip = "reason" in fs ? fs.reason : null;
if (skip) console.warn(`skipped: ${skip}`);
afterAll(() => {
  if (!skip) (fs as SmallFs).unmount();
});

const lines = (path: string) => readFileSync(path, "utf8");

describe.skipIf(skip !== null)("JsonlFile on a full disk", () => {
  test("a failed append is cut back to the last whole record; appends after space returns land on their own lines", async () => {
    const small = fs as SmallFs;
    const path = join(small.dir, "store", "a.jsonl");
    const file = new JsonlFile<{ n: number; pad: string }>(path);
    const written: number[] = [];
    let n = 0;
    for (; n < 20; n++) await file.append({ n, pad: "x".repeat(100) }).then(() => written.push(n));
    small.fill();
    // Long enough lines that the file's last page cannot hold one: the write is short, then ENOSPC.
    const failures: string[] = [];
    for (let i = 0; i < 40; i++, n++) {
      await file.append({ n, pad: "y".repeat(300) }).then(
        () => written.push(n),
        (err: NodeJS.ErrnoException) => failures.push(err.code ?? err.message),
      );
    }
    expect(failures.length).toBeGreaterThan(0);
    expect(new Set(failures)).toEqual(new Set(["ENOSPC"]));
    // The file ends at a record boundary while the disk is still full.
    const during = lines(path);
    expect(during.endsWith("\n")).toBe(true);
    for (const l of during.split("\n").filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
    small.free();
    for (let i = 0; i < 5; i++, n++) await file.append({ n, pad: "z" }).then(() => written.push(n));
    const after = lines(path).split("\n").filter(Boolean);
    // Every line parses and exactly the records whose append resolved are there, in order.
    expect(after.map((l) => JSON.parse(l).n)).toEqual(written);
    expect(new JsonlFile<{ n: number }>(path).readAll().map((r) => r.n)).toEqual(written);
  });

  test("the ledger keeps what happened in memory, reports the full disk, and writes it all once space returns", async () => {
    const small = fs as SmallFs;
    const dir = join(small.dir, "ledger");
    const changes: (string | null)[] = [];
    const disk = new DiskWatch({ dir: small.dir, probeEveryMs: 50, onChange: (f) => changes.push(f?.message ?? null) });
    const ledger = new Ledger({ dir, storeText: false, maxAgeMs: 86_400_000, maxFileBytes: 1e9, maxRecords: 1000, onWriteError: (e) => disk.note(e) });
    const ok = await ledger.create({ direction: "outbound", provider: "telegram", chat: "1", status: "sending", idempotencyKey: "k-ok" });
    small.fill();
    let lost: string | undefined;
    for (let i = 0; i < 40 && !lost; i++) {
      await ledger.create({ direction: "outbound", provider: "telegram", chat: "1", status: "sending", idempotencyKey: `k-${i}`, reason: "r".repeat(400) }).catch((e: Error) => {
        lost = `k-${i}`;
        expect(e.message).toContain("ENOSPC");
      });
    }
    expect(lost).toBeDefined();
    // The send went out but its `sent` could not be written: memory still says sent (a retry is answered, not sent twice).
    await expect(ledger.update(ok.id, { status: "sent", reason: "q".repeat(4000) })).rejects.toThrow(/ENOSPC/);
    expect(ledger.get(ok.id)?.status).toBe("sent");
    expect(ledger.byIdempotencyKey(lost!)?.status).toBe("sending");
    expect(ledger.unsavedCount).toBeGreaterThanOrEqual(2);
    expect(changes[0]).toMatch(/^the state dir is full \(ENOSPC at .*ledger\.jsonl\)$/);
    // Still whole while the disk is full.
    expect(lines(join(dir, "ledger.jsonl")).endsWith("\n")).toBe(true);
    small.free();
    await until(() => changes.length === 2, "the probe to see space again", 5_000);
    expect(changes[1]).toBeNull();
    await ledger.saveUnsaved();
    disk.stop();
    expect(ledger.unsavedCount).toBe(0);
    const text = lines(join(dir, "ledger.jsonl"));
    expect(text.endsWith("\n")).toBe(true);
    const onDisk = new Map(text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).map((r) => [r.idempotencyKey, r]));
    expect(onDisk.get("k-ok")).toMatchObject({ id: ok.id, status: "sent" });
    expect(onDisk.get(lost!)).toMatchObject({ status: "sending" });
  });

  test("a send that went out while the disk filled is answered on retry, not sent twice", async () => {
    const small = fs as SmallFs;
    const sent: string[] = [];
    // The disk fills while the provider is sending: its `sent` record cannot be written.
    const provider: Provider = {
      name: "telegram",
      start: async () => {},
      stop: async () => {},
      status: () => ({ linked: true, connected: true }),
      async send(p: SendParams): Promise<SendResult> {
        sent.push(p.message);
        small.fill();
        return { provider: "telegram", to: p.to, messageId: String(sent.length), ts: Date.now() };
      },
    };
    const fast = { perChatMinIntervalMs: 0, perMinute: 10_000, jitterMs: 0 };
    // Text kept in the ledger: the `sent` line needs a fresh page, which a full disk refuses.
    const ledger = new Ledger({ dir: join(small.dir, "ledger-d"), storeText: true, maxAgeMs: 86_400_000, maxFileBytes: 1e9, maxRecords: 1000 });
    const delivery = new Delivery({ ledger, providers: new Providers([provider]), outboxDir: join(small.dir, "outbox-d"), pacing: { whatsapp: fast, telegram: fast }, maxChars: { whatsapp: 4096, telegram: 4096 }, log: silentLogger });
    delivery.resume();
    const params = { to: "42", message: `hello ${"x".repeat(4000)}`, provider: "telegram" as const, idempotencyKey: "went-out" };
    await expect(delivery.send(params)).rejects.toThrow(/ENOSPC/);
    small.free();
    const again = await delivery.send(params);
    expect(again.messageId).toBe("1");
    expect(sent).toHaveLength(1);
    await ledger.saveUnsaved();
    const last = lines(join(small.dir, "ledger-d", "ledger.jsonl")).split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.idempotencyKey === "went-out").at(-1);
    expect(last.status).toBe("sent");
    delivery.stop();
  });
});
