import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

/**
 * Before appending to a JSON-lines file, make sure it ends with a newline: a kill -9 in
 * the middle of a write leaves a torn last line, and the next record must not be glued
 * onto it (readers skip the torn line; the glued record would be lost with it).
 */
export function endTornLine(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "r+");
  } catch {
    return;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(fd, "\n", size);
  } finally {
    closeSync(fd);
  }
}
