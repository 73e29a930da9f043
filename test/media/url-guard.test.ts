/** Issue 20 §10: media URLs never reach internal addresses, on the URL or on any redirect hop. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inCidr, internalRule } from "../../src/core/ip.ts";
import { assertPublicUrl, fetchPublicUrl, UrlRefusedError, type UrlPolicy } from "../../src/media/index.ts";
import { pinnedGet } from "../../src/media/pinned-get.ts";

describe("internalRule: which addresses are internal, and why", () => {
  const cases: [string, string | null][] = [
    ["127.0.0.1", "loopback"],
    ["127.3.4.5", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    // IPv6 forms carrying an IPv4 address are judged by it.
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:169.254.169.254", "link-local"],
    ["64:ff9b::10.0.0.1", "private"],
    ["2002:7f00:1::", "loopback"],
    ["::127.0.0.1", "loopback"],
    // Public.
    ["8.8.8.8", null],
    ["172.32.0.1", null],
    ["100.128.0.1", null],
    ["2606:4700::1111", null],
    ["::ffff:8.8.8.8", null],
    ["example.com", null],
  ];
  for (const [ip, rule] of cases) test(`${ip} → ${rule}`, () => expect(internalRule(ip)).toBe(rule as never));

  test("inCidr: IPv4 and IPv6 ranges, a single address, families never mix", () => {
    expect(inCidr("10.9.8.7", "10.0.0.0/8")).toBe(true);
    expect(inCidr("11.0.0.1", "10.0.0.0/8")).toBe(false);
    expect(inCidr("192.168.1.77", "192.168.1.77")).toBe(true);
    expect(inCidr("fd00::5", "fd00::/8")).toBe(true);
    expect(inCidr("fe00::5", "fd00::/8")).toBe(false);
    expect(inCidr("10.0.0.1", "::/0")).toBe(false);
  });
});

describe("assertPublicUrl", () => {
  const refusedBy = async (url: string, policy?: UrlPolicy) => {
    try {
      await assertPublicUrl(url, policy);
      return null;
    } catch (err) {
      if (!(err instanceof UrlRefusedError)) throw err;
      return err.rule;
    }
  };

  test("literal internal hosts are refused with their rule, whatever spelling the URL uses", async () => {
    expect(await refusedBy("http://127.0.0.1:9/x")).toBe("loopback");
    expect(await refusedBy("http://2130706433/x")).toBe("loopback");
    expect(await refusedBy("http://0x7f.1/x")).toBe("loopback");
    expect(await refusedBy("http://[::1]/x")).toBe("loopback");
    expect(await refusedBy("http://[::ffff:127.0.0.1]/x")).toBe("loopback");
    expect(await refusedBy("http://169.254.169.254/latest/meta-data")).toBe("link-local");
    expect(await refusedBy("http://10.0.0.1/")).toBe("private");
    expect(await refusedBy("http://[fd00::1]/")).toBe("unique-local");
    expect(await refusedBy("http://0.0.0.0:80/")).toBe("unspecified");
    expect(await refusedBy("file:///etc/passwd")).toBe("scheme");
  });

  test("a name is judged by what it resolves to (localhost → loopback)", async () => {
    expect(await refusedBy("http://localhost:9/x")).toBe("loopback");
  });

  test("the message names the rule and the way to allow it", async () => {
    const err = await assertPublicUrl("http://127.0.0.1:9/x").catch((e) => e as UrlRefusedError);
    expect(err).toBeInstanceOf(UrlRefusedError);
    expect(err!.message).toContain("loopback");
    expect(err!.message).toContain("media.allowUrlHosts");
    expect(err!.message).toContain("media.allowPrivateUrls");
  });

  test("media.allowPrivateUrls, or an allow-list entry (name, address, CIDR), lets an internal host through", async () => {
    expect(await refusedBy("http://127.0.0.1:9/x", { allowPrivateUrls: true, allowUrlHosts: [] })).toBeNull();
    expect(await refusedBy("http://localhost:9/x", { allowPrivateUrls: false, allowUrlHosts: ["LOCALHOST"] })).toBeNull();
    expect(await refusedBy("http://10.1.2.3/x", { allowPrivateUrls: false, allowUrlHosts: ["10.0.0.0/8"] })).toBeNull();
    expect(await refusedBy("http://10.1.2.3/x", { allowPrivateUrls: false, allowUrlHosts: ["192.168.0.0/16"] })).toBe("private");
    expect(await refusedBy("http://localhost:9/x", { allowPrivateUrls: false, allowUrlHosts: ["127.0.0.0/8", "::1"] })).toBeNull();
  });
});

describe("fetchPublicUrl follows redirects itself and checks every hop", () => {
  let server: ReturnType<typeof Bun.serve>;
  const hits: string[] = [];
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        hits.push(path);
        if (path === "/hop") return Response.redirect(`http://127.0.0.1:${server.port}/secret`, 302);
        if (path === "/loop") return Response.redirect(`http://localhost:${server.port}/loop`, 302);
        if (path === "/relative") return new Response(null, { status: 301, headers: { location: "/file.png" } });
        return new Response("body", { headers: { "content-type": "image/png" } });
      },
    });
  });
  afterAll(() => server.stop(true));

  test("an allowed host that redirects to an internal address is refused at that hop; the target is never requested", async () => {
    hits.length = 0;
    const policy = { allowPrivateUrls: false, allowUrlHosts: ["localhost"] };
    const err = await fetchPublicUrl(`http://localhost:${server.port}/hop`, policy).catch((e) => e);
    expect(err).toBeInstanceOf(UrlRefusedError);
    expect(err.rule).toBe("loopback");
    expect(hits).toEqual(["/hop"]);
  });

  test("pinnedGet checks the addresses its own connection dials: a refusal there means no request is made", async () => {
    hits.length = 0;
    const seen: string[][] = [];
    const nope = new Error("refused at connect time");
    const err = await pinnedGet(new URL(`http://localhost:${server.port}/file.png`), (a) => (seen.push(a), nope)).catch((e) => e);
    expect(err).toBe(nope);
    expect(seen[0]).toContain("127.0.0.1");
    expect(hits).toEqual([]);
    const res = await pinnedGet(new URL(`http://localhost:${server.port}/file.png`), () => null);
    expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([200, "image/png", "body"]);
    expect(hits).toEqual(["/file.png"]);
  });

  test("relative redirects are followed; a chain longer than 5 is refused", async () => {
    const policy = { allowPrivateUrls: true, allowUrlHosts: [] };
    const res = await fetchPublicUrl(`http://127.0.0.1:${server.port}/relative`, policy);
    expect(await res.text()).toBe("body");
    const err = await fetchPublicUrl(`http://127.0.0.1:${server.port}/loop`, policy).catch((e) => e);
    expect(err.rule).toBe("redirects");
  });
});
