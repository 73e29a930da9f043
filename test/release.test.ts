/**
 * Issue 17 §5: `npm run release` builds four binaries once (this file is the only one that
 * cross-compiles, ~25 s), then every check reads them.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adhocSign, verifySignature } from "../build/macho-sign.ts";
import { RELEASE_DIR } from "../build/release.ts";
import pkg from "../package.json" with { type: "json" };

const ROOT = join(import.meta.dir, "..");

/** The executable format from the header bytes: what `file` would say, without needing `file`. */
function format(path: string): string {
  const b = readFileSync(path).subarray(0, 64);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b.readUInt16LE(18);
    return `ELF ${b[4] === 2 ? "64" : "32"}-bit ${machine === 0x3e ? "x86-64" : machine === 0xb7 ? "aarch64" : `machine ${machine}`}`;
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = b.readUInt32LE(4);
    return `Mach-O 64-bit ${cpu === 0x01000007 ? "x86_64" : cpu === 0x0100000c ? "arm64" : `cpu ${cpu}`} ${b.readUInt32LE(12) === 2 ? "executable" : "other"}`;
  }
  return "unknown";
}

let built: { code: number | null; out: string };
beforeAll(() => {
  const res = spawnSync("npm", ["run", "release"], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  built = { code: res.status, out: `${res.stdout}\n${res.stderr}` };
}, 300_000);

describe("npm run release", () => {
  test("yields the four binaries in the right formats", () => {
    expect(built.code, built.out).toBe(0);
    expect(readdirSync(RELEASE_DIR).sort()).toEqual(
      ["SHA256SUMS", "clawdis-darwin-arm64", "clawdis-darwin-x64", "clawdis-linux-arm64", "clawdis-linux-x64"].sort(),
    );
    expect(format(join(RELEASE_DIR, "clawdis-darwin-arm64"))).toBe("Mach-O 64-bit arm64 executable");
    expect(format(join(RELEASE_DIR, "clawdis-darwin-x64"))).toBe("Mach-O 64-bit x86_64 executable");
    expect(format(join(RELEASE_DIR, "clawdis-linux-x64"))).toBe("ELF 64-bit x86-64");
    expect(format(join(RELEASE_DIR, "clawdis-linux-arm64"))).toBe("ELF 64-bit aarch64");
    for (const name of readdirSync(RELEASE_DIR).filter((n) => n.startsWith("clawdis-"))) {
      expect(statSync(join(RELEASE_DIR, name)).mode & 0o111).toBe(0o111);
    }
  });

  test("macOS binaries carry a valid ad-hoc signature (every page hash matches)", () => {
    for (const arch of ["arm64", "x64"]) {
      const sig = verifySignature(readFileSync(join(RELEASE_DIR, `clawdis-darwin-${arch}`)));
      expect(sig).toMatchObject({ identifier: "clawdis", valid: true, badPages: 0 });
      expect(sig!.flags & 0x2).toBe(0x2); // CS_ADHOC
    }
  });

  test("SHA256SUMS matches every file, in sha256sum's format", () => {
    const lines = readFileSync(join(RELEASE_DIR, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const [sum, name] = line.split("  ");
      expect(createHash("sha256").update(readFileSync(join(RELEASE_DIR, name!))).digest("hex")).toBe(sum!);
    }
    const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: RELEASE_DIR, encoding: "utf8" });
    if (!check.error) expect(check.status).toBe(0);
  });

  test("the linux-x64 binary answers --version with the version and commit", () => {
    const res = spawnSync(join(RELEASE_DIR, "clawdis-linux-x64"), ["--version"], { encoding: "utf8" });
    const head = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout.trim();
    expect(res.stdout.trim()).toMatch(new RegExp(`^${pkg.version.replace(/\./g, "\\.")} \\(${head}(-dirty)?\\)$`));
  });
});

describe("the ad-hoc signer", () => {
  test("re-signing Bun's own darwin-arm64 output reproduces Bun's signature byte for byte", () => {
    const dir = mkdtempSync(join(tmpdir(), "clawdis-sign-"));
    writeFileSync(join(dir, "hello.ts"), 'console.log("hi");\n');
    const out = join(dir, "hello");
    const res = spawnSync(process.execPath, ["build", "--compile", "--target=bun-darwin-arm64", join(dir, "hello.ts"), "--outfile", out], { encoding: "utf8" });
    expect(res.status, res.stderr).toBe(0);
    const bunSigned = readFileSync(out);
    const bunSig = verifySignature(bunSigned)!;
    expect(bunSig.valid).toBe(true);
    expect(adhocSign(bunSigned, bunSig.identifier).equals(bunSigned)).toBe(true);
  });

  test("a changed page no longer verifies", () => {
    const signed = readFileSync(join(RELEASE_DIR, "clawdis-darwin-x64"));
    signed[5000] = signed[5000]! ^ 0xff;
    expect(verifySignature(signed)).toMatchObject({ valid: false, badPages: 1 });
  });
});
