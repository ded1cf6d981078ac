/**
 * Encoding and decoding of tar headers: USTAR blocks, with PAX extended headers when a
 * field does not fit (long or non-ASCII names, big ids, sizes or times) and for xattrs
 * (`SCHILY.xattr.<name>` records, whose values are raw bytes).
 *
 * Written here rather than taken from tar-stream because tar-stream builds PAX records as
 * JavaScript strings: binary xattr values such as `security.capability` come out as UTF-8
 * replacement characters on both write and read.
 */
import { InvalidArgumentError } from "../errors.js";

/** The entry types a layer tar may hold. */
export type TarEntryType = "file" | "link" | "symlink" | "char" | "block" | "dir" | "fifo";

/** One tar entry's metadata, as strata writes and reads it. */
export interface TarHeader {
  /** Path inside the archive; directories end with `/` when written by strata. */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (`0o7777` mask). */
  mode: number;
  uid: number;
  gid: number;
  /** Body size in bytes; 0 for everything but `file`. */
  size: number;
  /** Modification time in seconds since the epoch (may be fractional when read from PAX). */
  mtime: number;
  /** Access time in seconds, when a PAX `atime` record carried one. */
  atime?: number;
  /** Target of a symlink, or the archive path a hardlink points at. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Extended attributes, name to raw value. */
  xattrs?: ReadonlyMap<string, Buffer>;
}

/** Size of a tar block. */
export const BLOCK = 512;
/** Largest PAX or GNU long-name body accepted when reading. */
export const MAX_SPECIAL_SIZE = 8 * 1024 * 1024;
/** The xattr PAX record prefix (Go's and GNU tar's). */
export const XATTR_PAX_PREFIX = "SCHILY.xattr.";

const TYPEFLAG: Record<TarEntryType, number> = {
  file: 0x30,
  link: 0x31,
  symlink: 0x32,
  char: 0x33,
  block: 0x34,
  dir: 0x35,
  fifo: 0x36,
};
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/**
 * Encode `h` as the bytes that precede its body: one USTAR block, or a PAX header entry
 * and then the USTAR block when PAX records are needed (Go's `archive/tar` layout, records
 * sorted by key, header named `<dir>/PaxHeaders.0/<base>`).
 */
export function encodeTarHeader(h: TarHeader): Buffer {
  const pax: [string, Buffer][] = [];
  const split = splitUstarPath(h.name);
  if (!split) pax.push(["path", Buffer.from(h.name)]);
  const linkname = h.linkname ?? "";
  if (linkname && (!isAscii(linkname) || linkname.length > 100)) {
    pax.push(["linkpath", Buffer.from(linkname)]);
  }
  for (const [key, v] of [
    ["uid", h.uid],
    ["gid", h.gid],
  ] as const) {
    if (v > MAX_OCTAL_8) pax.push([key, Buffer.from(String(v))]);
  }
  if (h.size > MAX_OCTAL_12) pax.push(["size", Buffer.from(String(h.size))]);
  const mtime = Math.floor(h.mtime);
  if (mtime < 0 || mtime > MAX_OCTAL_12) pax.push(["mtime", Buffer.from(String(mtime))]);
  for (const [name, value] of h.xattrs ?? []) pax.push([XATTR_PAX_PREFIX + name, value]);

  const block = Buffer.alloc(BLOCK);
  const [prefix, name] = split ?? ["", asciiTruncate(h.name, 100)];
  block.write(name, 0, 100, "latin1");
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, h.uid > MAX_OCTAL_8 ? 0 : h.uid);
  writeOctal(block, 116, 8, h.gid > MAX_OCTAL_8 ? 0 : h.gid);
  writeOctal(block, 124, 12, h.size > MAX_OCTAL_12 ? 0 : h.size);
  writeOctal(block, 136, 12, mtime < 0 || mtime > MAX_OCTAL_12 ? 0 : mtime);
  block[156] = TYPEFLAG[h.type];
  block.write(asciiTruncate(linkname, 100), 157, 100, "latin1");
  block.write("ustar\x0000", 257, 8, "latin1");
  writeOctal(block, 329, 8, h.devmajor ?? 0);
  writeOctal(block, 337, 8, h.devminor ?? 0);
  block.write(prefix, 345, 155, "latin1");
  writeChecksum(block);
  if (pax.length === 0) return block;

  pax.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const slash = h.name.replace(/\/+$/, "").lastIndexOf("/");
  const paxName = `${slash < 0 ? "" : h.name.slice(0, slash + 1)}PaxHeaders.0/${h.name
    .replace(/\/+$/, "")
    .slice(slash + 1)}`;
  const paxBlock = Buffer.alloc(BLOCK);
  paxBlock.write(asciiTruncate(paxName, 100), 0, 100, "latin1");
  writeOctal(paxBlock, 100, 8, 0);
  writeOctal(paxBlock, 108, 8, 0);
  writeOctal(paxBlock, 116, 8, 0);
  writeOctal(paxBlock, 124, 12, body.length);
  writeOctal(paxBlock, 136, 12, 0);
  paxBlock[156] = 0x78; // 'x'
  paxBlock.write("ustar\x0000", 257, 8, "latin1");
  writeChecksum(paxBlock);
  return Buffer.concat([paxBlock, body, Buffer.alloc(padding(body.length)), block]);
}

/** Zero bytes needed after `size` body bytes to reach a block boundary. */
export function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** One PAX record: `"<len> <key>=<value>\n"`, where len counts the whole record. */
function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.byteLength(key) + value.length + 3; // ' ', '=', '\n'
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from("\n")]);
}

/**
 * Split a path into USTAR's prefix and name fields (Go's `splitUSTARPath`), or `undefined`
 * when it does not fit or is not ASCII.
 */
function splitUstarPath(p: string): [string, string] | undefined {
  if (!isAscii(p)) return undefined;
  if (p.length <= 100) return ["", p];
  let length = p.length;
  if (length > 156) length = 156;
  else if (p[length - 1] === "/") length--;
  const i = p.lastIndexOf("/", length - 1);
  const nlen = p.length - i - 1;
  if (i <= 0 || nlen > 100 || nlen === 0 || i > 155) return undefined;
  return [p.slice(0, i), p.slice(i + 1)];
}

function isAscii(s: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL-free 7-bit ASCII is the USTAR charset
  return /^[\x01-\x7f]*$/.test(s);
}

function asciiTruncate(s: string, n: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: see isAscii
  return s.replace(/[^\x01-\x7f]/g, "_").slice(0, n);
}

function writeOctal(buf: Buffer, off: number, len: number, v: number): void {
  buf.write(v.toString(8).padStart(len - 1, "0"), off, len - 1, "latin1");
  buf[off + len - 1] = 0;
}

function writeChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.write(sum.toString(8).padStart(6, "0"), 148, 6, "latin1");
  block[154] = 0;
  block[155] = 0x20;
}

/** A raw header block as {@link decodeHeaderBlock} returns it, before PAX is applied. */
export interface RawHeader {
  name: string;
  /** The typeflag byte as a character (`"0"`, `"x"`, `"L"`, ...); `"\0"` stays `"\0"`. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/**
 * Decode one header block (USTAR, GNU or V7), verifying its checksum.
 * @returns `null` for an all-zero block (end of archive).
 * @throws InvalidArgumentError when the checksum or a numeric field is invalid.
 */
export function decodeHeaderBlock(b: Buffer): RawHeader | null {
  let zero = true;
  for (let i = 0; i < BLOCK; i++) {
    if (b[i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) return null;
  const stored = parseNumeric(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  if (stored !== unsigned && stored !== signed)
    throw new InvalidArgumentError("tar header checksum mismatch");
  const magic = b.toString("latin1", 257, 263);
  let name = cstring(b, 0, 100);
  if (magic === "ustar\0") {
    const prefix = cstring(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    typeflag: String.fromCharCode(b[156]!),
    mode: parseNumeric(b, 100, 8),
    uid: parseNumeric(b, 108, 8),
    gid: parseNumeric(b, 116, 8),
    size: parseNumeric(b, 124, 12),
    mtime: parseNumeric(b, 136, 12),
    linkname: cstring(b, 157, 100),
    devmajor: magic.startsWith("ustar") ? parseNumeric(b, 329, 8) : 0,
    devminor: magic.startsWith("ustar") ? parseNumeric(b, 337, 8) : 0,
  };
}

/** Parse a PAX extended header body into records; values stay raw bytes. */
export function parsePaxRecords(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) throw new InvalidArgumentError("malformed PAX record");
    const len = Number(body.toString("latin1", off, sp));
    if (!Number.isInteger(len) || len <= sp - off + 1 || off + len > body.length) {
      throw new InvalidArgumentError("malformed PAX record length");
    }
    const rec = body.subarray(sp + 1, off + len - 1); // drop the trailing '\n'
    const eq = rec.indexOf(0x3d);
    if (eq < 0 || body[off + len - 1] !== 0x0a)
      throw new InvalidArgumentError("malformed PAX record");
    out.set(rec.toString("utf8", 0, eq), Buffer.from(rec.subarray(eq + 1)));
    off += len;
  }
  return out;
}

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString("utf8", off, end < 0 || end > off + len ? off + len : end);
}

/** Octal (space or NUL terminated) or GNU base-256 numeric field. */
function parseNumeric(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    if (b[off] === 0xff) throw new InvalidArgumentError("negative numeric field in tar header");
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const s = b
    .toString("latin1", off, off + len)
    .replace(/[\0 ]+$/, "")
    .replace(/^[ \0]+/, "");
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s))
    throw new InvalidArgumentError(`invalid octal field in tar header: ${JSON.stringify(s)}`);
  return Number.parseInt(s, 8);
}
