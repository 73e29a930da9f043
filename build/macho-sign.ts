/**
 * Ad-hoc code signatures for 64-bit Mach-O executables, written from Linux.
 *
 * Apple Silicon refuses to run code without a valid signature; an ad-hoc one (no
 * certificate, just the page hashes) is what the linker gives every arm64 binary. Bun's
 * cross-compile writes such a signature for darwin-arm64 but leaves darwin-x64 with the
 * template's Developer ID signature, which no longer matches the modified pages. No signer
 * installable from npm runs on Linux (they wrap Apple's `codesign`), so this writes the
 * linker's form: a SuperBlob holding one CodeDirectory (version 0x20400, flags
 * adhoc|linker-signed, SHA-256 over 4 KiB pages), in place of the old signature.
 */
import { createHash } from "node:crypto";

const MH_MAGIC_64 = 0xfeedfacf;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const CD_VERSION = 0x20400;
const CD_HEADER = 88;
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;
const HASH_SIZE = 32;
const HASH_SHA256 = 2;

interface Layout {
  sigCmd: number;
  dataoff: number;
  datasize: number;
  linkedit: number;
  text: { fileoff: bigint; filesize: bigint };
}

function layout(b: Buffer): Layout {
  if (b.readUInt32LE(0) !== MH_MAGIC_64) throw new Error("not a 64-bit little-endian Mach-O file");
  const ncmds = b.readUInt32LE(16);
  let off = 32;
  let sigCmd = -1;
  let linkedit = -1;
  let text: Layout["text"] | null = null;
  for (let i = 0; i < ncmds; i++) {
    const cmd = b.readUInt32LE(off);
    if (cmd === LC_CODE_SIGNATURE) sigCmd = off;
    if (cmd === LC_SEGMENT_64) {
      const name = b.toString("latin1", off + 8, off + 24).replace(/\0.*$/s, "");
      if (name === "__LINKEDIT") linkedit = off;
      if (name === "__TEXT") text = { fileoff: b.readBigUInt64LE(off + 40), filesize: b.readBigUInt64LE(off + 48) };
    }
    off += b.readUInt32LE(off + 4);
  }
  if (sigCmd < 0 || linkedit < 0 || !text) throw new Error("Mach-O file without LC_CODE_SIGNATURE, __LINKEDIT or __TEXT: cannot sign it in place");
  return { sigCmd, dataoff: b.readUInt32LE(sigCmd + 8), datasize: b.readUInt32LE(sigCmd + 12), linkedit, text };
}

/** Return a copy of the executable with a fresh ad-hoc signature under `identifier`. */
export function adhocSign(input: Buffer, identifier: string): Buffer {
  const l = layout(input);
  const codeLimit = l.dataoff;
  const nSlots = Math.ceil(codeLimit / PAGE);
  const ident = Buffer.from(`${identifier}\0`, "utf8");
  const cdLength = CD_HEADER + ident.length + nSlots * HASH_SIZE;
  const sigSize = 20 + cdLength;

  const out = Buffer.alloc(codeLimit + sigSize);
  input.copy(out, 0, 0, codeLimit);
  // The load commands are inside the hashed pages: settle them before hashing.
  out.writeUInt32LE(sigSize, l.sigCmd + 12);
  const linkeditOff = out.readBigUInt64LE(l.linkedit + 40);
  const linkeditSize = BigInt(codeLimit + sigSize) - linkeditOff;
  out.writeBigUInt64LE(linkeditSize, l.linkedit + 48);
  out.writeBigUInt64LE(((linkeditSize + 0x3fffn) / 0x4000n) * 0x4000n, l.linkedit + 32);

  let p = codeLimit;
  out.writeUInt32BE(CSMAGIC_EMBEDDED_SIGNATURE, p);
  out.writeUInt32BE(sigSize, p + 4);
  out.writeUInt32BE(1, p + 8);
  out.writeUInt32BE(0, p + 12); // slot 0: the CodeDirectory
  out.writeUInt32BE(20, p + 16);
  const cd = p + 20;
  out.writeUInt32BE(CSMAGIC_CODEDIRECTORY, cd);
  out.writeUInt32BE(cdLength, cd + 4);
  out.writeUInt32BE(CD_VERSION, cd + 8);
  out.writeUInt32BE(CS_ADHOC | CS_LINKER_SIGNED, cd + 12);
  out.writeUInt32BE(CD_HEADER + ident.length, cd + 16); // hashOffset
  out.writeUInt32BE(CD_HEADER, cd + 20); // identOffset
  out.writeUInt32BE(0, cd + 24); // nSpecialSlots
  out.writeUInt32BE(nSlots, cd + 28);
  out.writeUInt32BE(codeLimit, cd + 32);
  out[cd + 36] = HASH_SIZE;
  out[cd + 37] = HASH_SHA256;
  out[cd + 38] = 0; // platform
  out[cd + 39] = PAGE_SHIFT;
  // spare2, scatterOffset, teamOffset, spare3 and codeLimit64 stay 0.
  out.writeBigUInt64BE(l.text.fileoff, cd + 64);
  out.writeBigUInt64BE(l.text.filesize, cd + 72);
  out.writeBigUInt64BE(BigInt(CS_EXECSEG_MAIN_BINARY), cd + 80);
  ident.copy(out, cd + CD_HEADER);
  p = cd + CD_HEADER + ident.length;
  for (let i = 0; i < nSlots; i++, p += HASH_SIZE) {
    const start = i * PAGE;
    createHash("sha256").update(out.subarray(start, Math.min(start + PAGE, codeLimit))).digest().copy(out, p);
  }
  return out;
}

export interface SignatureInfo {
  identifier: string;
  flags: number;
  /** Every page hash matches the file's bytes. */
  valid: boolean;
  /** Pages whose hash does not match. */
  badPages: number;
}

/** Read the embedded signature and check every page hash of its CodeDirectory. */
export function verifySignature(b: Buffer): SignatureInfo | null {
  const l = layout(b);
  const so = l.dataoff;
  if (so + 12 > b.length || b.readUInt32BE(so) !== CSMAGIC_EMBEDDED_SIGNATURE) return null;
  const count = b.readUInt32BE(so + 8);
  for (let i = 0; i < count; i++) {
    if (b.readUInt32BE(so + 12 + i * 8) !== 0) continue;
    const cd = so + b.readUInt32BE(so + 16 + i * 8);
    if (b.readUInt32BE(cd) !== CSMAGIC_CODEDIRECTORY) return null;
    const flags = b.readUInt32BE(cd + 12);
    const hashOffset = b.readUInt32BE(cd + 16);
    const identOffset = b.readUInt32BE(cd + 20);
    const nSlots = b.readUInt32BE(cd + 28);
    const codeLimit = b.readUInt32BE(cd + 32);
    const hashSize = b[cd + 36]!;
    const algo = b[cd + 37] === HASH_SHA256 ? "sha256" : "sha1";
    const page = 1 << b[cd + 39]!;
    let badPages = 0;
    for (let s = 0; s < nSlots; s++) {
      const start = s * page;
      const want = b.subarray(cd + hashOffset + s * hashSize, cd + hashOffset + (s + 1) * hashSize);
      const got = createHash(algo).update(b.subarray(start, Math.min(start + page, codeLimit))).digest().subarray(0, hashSize);
      if (!got.equals(want)) badPages += 1;
    }
    const identifier = b.toString("utf8", cd + identOffset, b.indexOf(0, cd + identOffset));
    return { identifier, flags, valid: badPages === 0 && codeLimit === so, badPages };
  }
  return null;
}
