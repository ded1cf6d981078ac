import { InvalidArgumentError } from "../errors.js";
import {
  BLOCK,
  decodeHeaderBlock,
  MAX_SPECIAL_SIZE,
  padding,
  parsePaxRecords,
  type TarEntryType,
  type TarHeader,
  XATTR_PAX_PREFIX,
} from "./tar-header.js";

/**
 * One entry of a tar stream being read. Its body must be read (or left alone: it is
 * skipped) before asking for the next entry. A buffer it hands out may share memory with
 * the source's chunk: use it before reading on, unless the source never reuses its chunks.
 */
export interface TarEntry {
  header: TarHeader;
  /** The whole body in one buffer (for small files). */
  buffer(): Promise<Buffer>;
  /** The body as chunks of at most `max` bytes (for large files). */
  chunks(max?: number): AsyncGenerator<Buffer>;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};

/** Pull-based reader over an async byte source, handing out exact-size pieces. */
class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private chunk: Buffer = Buffer.alloc(0);
  private off = 0;
  private eof = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Up to `max` (> 0) bytes, zero-copy where possible; an empty buffer at end of input. */
  async some(max: number): Promise<Buffer> {
    while (this.off >= this.chunk.length) {
      if (this.eof) return Buffer.alloc(0);
      const r = await this.it.next();
      if (r.done) {
        this.eof = true;
        return Buffer.alloc(0);
      }
      const v = r.value;
      this.chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      this.off = 0;
    }
    const n = Math.min(max, this.chunk.length - this.off);
    const out = this.chunk.subarray(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /**
   * Exactly `n` bytes, or fewer only at end of input. Bytes that span chunks are copied as
   * they arrive, before the next chunk is asked for: a source may reuse its buffer.
   */
  async exact(n: number): Promise<Buffer> {
    const first = await this.some(n);
    if (first.length === n || first.length === 0) return first;
    const out = Buffer.allocUnsafe(n);
    let got = first.copy(out);
    while (got < n) {
      const p = await this.some(n - got);
      if (p.length === 0) break;
      got += p.copy(out, got);
    }
    return got === n ? out : out.subarray(0, got);
  }

  /** Discard `n` bytes; false when input ended first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      const p = await this.some(n);
      if (p.length === 0) return false;
      n -= p.length;
    }
    return true;
  }

  /** Stop the source early (runs its cleanup: kills a decompressor, closes a file). */
  async close(): Promise<void> {
    if (this.eof) return;
    this.eof = true;
    try {
      await this.it.return?.();
    } catch {
      // the error that made us stop is the one to report
    }
  }

  /** Read and discard everything that is left (so a hash over the source sees it all). */
  async drain(): Promise<void> {
    while ((await this.some(1 << 20)).length > 0) {}
  }
}

/**
 * Read a tar stream entry by entry, applying PAX (`x`, `g`) and GNU long-name (`L`, `K`)
 * headers. Bytes after the end-of-archive marker are read and discarded, so that a digest
 * computed over `source` covers the whole stream. `source` may reuse one buffer for every
 * chunk (as `readFileChunks` does): the reader keeps nothing of a chunk (headers,
 * PAX records, long names are decoded or copied) once it asks for the next.
 * @throws InvalidArgumentError on a malformed or truncated archive, or an entry type a
 *   layer cannot hold (errors of `source` pass through).
 */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let global = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const block = await r.exact(BLOCK);
      if (block.length === 0) return; // no end marker; accepted as Go's reader does
      if (block.length < BLOCK) throw new InvalidArgumentError("tar: truncated header");
      const raw = decodeHeaderBlock(block);
      if (raw === null) {
        await r.drain();
        return;
      }
      const special = raw.typeflag;
      if (special === "x" || special === "g" || special === "L" || special === "K") {
        if (raw.size > MAX_SPECIAL_SIZE)
          throw new InvalidArgumentError("tar: extended header too large");
        const body = await r.exact(raw.size);
        if (body.length < raw.size || !(await r.skip(padding(raw.size)))) {
          throw new InvalidArgumentError("tar: truncated extended header");
        }
        if (special === "x") pax = parsePaxRecords(body);
        else if (special === "g") {
          global = new Map([...global, ...parsePaxRecords(body)]);
          // Global records last for the whole stream: bound what they may hold altogether.
          let bytes = 0;
          for (const [k, v] of global) bytes += k.length + v.length;
          if (bytes > MAX_SPECIAL_SIZE)
            throw new InvalidArgumentError("tar: global extended headers too large");
        } else {
          const nul = body.indexOf(0);
          const s = body.toString("utf8", 0, nul < 0 ? body.length : nul);
          if (special === "L") longName = s;
          else longLink = s;
        }
        continue;
      }
      const type = TYPES[special];
      if (type === undefined)
        throw new InvalidArgumentError(
          `tar entry "${raw.name}": unsupported type flag "${special}"`,
        );
      const records = pax ? new Map([...global, ...pax]) : global;
      const header: TarHeader = {
        name: longName ?? raw.name,
        type: special === "\0" && raw.name.endsWith("/") ? "dir" : type,
        mode: raw.mode & 0o7777,
        uid: raw.uid,
        gid: raw.gid,
        size: raw.size,
        mtime: raw.mtime,
      };
      const linkname = longLink ?? raw.linkname;
      if (linkname) header.linkname = linkname;
      if (type === "char" || type === "block") {
        header.devmajor = raw.devmajor;
        header.devminor = raw.devminor;
      }
      applyPax(header, records);
      pax = undefined;
      longName = undefined;
      longLink = undefined;
      // Like Go's reader: links, devices, fifos and directories never carry a body.
      if (header.type !== "file") header.size = 0;

      let left = header.size;
      const entry: TarEntry = {
        header,
        async buffer() {
          const b = await r.exact(left);
          left -= b.length;
          if (left > 0)
            throw new InvalidArgumentError(`tar entry "${header.name}": truncated body`);
          return b;
        },
        async *chunks(max = 1 << 20) {
          while (left > 0) {
            const b = await r.some(Math.min(max, left));
            if (b.length === 0)
              throw new InvalidArgumentError(`tar entry "${header.name}": truncated body`);
            left -= b.length;
            yield b;
          }
        },
      };
      yield entry;
      if (!(await r.skip(left))) {
        throw new InvalidArgumentError(`tar entry "${header.name}": truncated body`);
      }
      const pad = padding(header.size);
      if (pad > 0) {
        const got = (await r.exact(pad)).length;
        // A stream that ends right after the last body, without its padding or an end
        // marker, is accepted as Go's reader accepts it (umoci 0.4 writes such layers);
        // one that ends inside the padding is truncated.
        if (got === 0) return;
        if (got < pad)
          throw new InvalidArgumentError(`tar entry "${header.name}": truncated padding`);
      }
    }
  } finally {
    await r.close();
  }
}

function applyPax(h: TarHeader, records: ReadonlyMap<string, Buffer>): void {
  if (records.size === 0) return;
  let xattrs: Map<string, Buffer> | undefined;
  for (const [key, value] of records) {
    switch (key) {
      case "path":
        h.name = value.toString("utf8");
        break;
      case "linkpath":
        h.linkname = value.toString("utf8");
        break;
      case "size":
        h.size = paxNumber(key, value, COUNT);
        break;
      case "uid":
        h.uid = paxNumber(key, value, COUNT);
        break;
      case "gid":
        h.gid = paxNumber(key, value, COUNT);
        break;
      case "mtime":
        h.mtime = paxNumber(key, value, TIME);
        break;
      case "atime":
        h.atime = paxNumber(key, value, TIME);
        break;
      default:
        if (key.startsWith(XATTR_PAX_PREFIX)) {
          xattrs ??= new Map();
          xattrs.set(key.slice(XATTR_PAX_PREFIX.length), value);
        }
    }
  }
  if (xattrs) h.xattrs = xattrs;
}

/** A PAX size, uid or gid: decimal digits only (Go's reader refuses signs and fractions). */
const COUNT = /^[0-9]{1,16}$/;
/** A PAX time: seconds, maybe negative, maybe with a fraction (Go's `parsePAXTime`). */
const TIME = /^-?[0-9]{1,16}(\.[0-9]*)?$/;

function paxNumber(key: string, value: Buffer, form: RegExp): number {
  const s = value.toString("latin1");
  const n = Number(s);
  if (!form.test(s) || !Number.isSafeInteger(Math.trunc(n)))
    throw new InvalidArgumentError(`tar: invalid PAX ${key} ${JSON.stringify(s)}`);
  return n;
}
