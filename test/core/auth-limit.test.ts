/** core/auth-limit: which addresses share a budget, and the budget across all of them. */
import { describe, expect, test } from "bun:test";
import { AuthLimiter, networkKey } from "../../src/core/auth-limit.ts";

describe("networkKey: one guesser is one network", () => {
  test("all of loopback is one; IPv4 by /24; IPv6 by /64; mapped IPv4 as IPv4", () => {
    for (const a of ["127.0.0.1", "127.0.0.2", "127.255.3.9", "::1", "[::1]", "::ffff:127.0.0.3"]) expect(networkKey(a)).toBe("loopback");
    expect(networkKey("10.1.2.3")).toBe("10.1.2.0/24");
    expect(networkKey("10.1.2.250")).toBe("10.1.2.0/24");
    expect(networkKey("::ffff:10.1.2.3")).toBe("10.1.2.0/24");
    expect(networkKey("10.1.3.3")).not.toBe(networkKey("10.1.2.3"));
    expect(networkKey("2001:db8:a:b::1")).toBe("2001:db8:a:b::/64");
    expect(networkKey("2001:DB8:a:b:ffff:1:2:3")).toBe("2001:db8:a:b::/64");
    expect(networkKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(networkKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(networkKey("2001:db8:a:c::1")).not.toBe(networkKey("2001:db8:a:b::1"));
    expect(networkKey("unknown")).toBe("unknown");
  });
});

describe("AuthLimiter", () => {
  const make = (over: { globalFailures?: number } = {}) => {
    let t = 1_000_000;
    const limiter = new AuthLimiter({ maxFailures: 3, windowMs: 60_000, now: () => t, ...over });
    return { limiter, advance: (ms: number) => void (t += ms) };
  };

  test("a network's failures count whatever address or Origin they came with; the window reopens", () => {
    const { limiter, advance } = make();
    expect(limiter.retryAfter("127.0.0.1")).toBe(0);
    limiter.fail("127.0.0.2");
    limiter.fail("127.0.0.3", "http://page.local");
    limiter.fail("::1");
    expect(limiter.retryAfter("127.0.0.1")).toBe(60_000);
    expect(limiter.retryAfter("127.9.9.9", undefined)).toBe(60_000);
    expect(limiter.retryAfter("10.0.0.1")).toBe(0);
    advance(20_000);
    expect(limiter.retryAfter("::1")).toBe(40_000);
    advance(40_000);
    expect(limiter.retryAfter("127.0.0.1")).toBe(0);
    expect(limiter.size).toBe(0);
  });

  test("the global budget stops a spread of networks; loopback keeps only its own", () => {
    const { limiter } = make({ globalFailures: 5 });
    for (let i = 0; i < 5; i++) limiter.fail(`10.0.${i}.1`);
    // No network is over its own 3, but together they spent the budget.
    expect(limiter.retryAfter("10.0.0.1")).toBeGreaterThan(0);
    expect(limiter.retryAfter("192.168.7.7")).toBeGreaterThan(0);
    expect(limiter.retryAfter("2001:db8::1")).toBeGreaterThan(0);
    expect(limiter.retryAfter("127.0.0.1")).toBe(0);
  });

  test("the global budget defaults to ten networks' worth and follows a reload", () => {
    const { limiter } = make();
    for (let i = 0; i < 29; i++) limiter.fail(`10.${i}.0.1`);
    expect(limiter.retryAfter("10.99.0.1")).toBe(0);
    limiter.fail("10.30.0.1");
    expect(limiter.retryAfter("10.99.0.1")).toBeGreaterThan(0);
    limiter.setMaxFailures(4);
    expect(limiter.retryAfter("10.99.0.1")).toBe(0);
  });
});
