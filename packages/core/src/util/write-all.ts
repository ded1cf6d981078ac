import * as fs from "node:fs";

/**
 * Write all of `buf` to `fd` with synchronous calls, looping over short writes: at
 * `position` (pwrite) when given, else at the file's current offset.
 */
export function writeAllSync(fd: number, buf: Uint8Array, position?: number): void {
  let off = 0;
  while (off < buf.length) {
    const at = position === undefined ? null : position + off;
    off += fs.writeSync(fd, buf, off, buf.length - off, at);
  }
}
