import type { Stats } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import type { ByteSink } from "../util/byte-sink.js";
import { splitDevice } from "../util/device.js";
import { mapOrdered } from "../util/map-ordered.js";
import type { TarEntryType, TarHeader } from "../util/tar-header.js";
import { TarWriter } from "../util/tar-writer.js";
import { readXattrs } from "../util/xattrs.js";
import type { LayerChange } from "./layer-change.js";

/** Options of {@link writeLayerTar}. */
export interface WriteLayerTarOptions {
  /** Root that a change's `path` is read from when it has no `sourcePath`. */
  sourceRoot?: string;
  /** Which xattrs to carry (e.g. drop `trusted.overlay.*`); default all. */
  xattrFilter?: (name: string) => boolean;
  /** Stop writing; the sink holds a partial tar and must be discarded. */
  signal?: AbortSignal;
  /** How many changes are read ahead (stat, xattrs, small-file contents); default 16. */
  readAhead?: number;
}

/** What {@link writeLayerTar} wrote. */
export interface LayerTarStats {
  /** Tar entries written (whiteouts and hardlinks included, PAX headers not). */
  entries: number;
  /** Bytes of tar written, end-of-archive marker included. */
  size: number;
}

/** Files up to this size are read whole, into a buffer of their size; larger ones stream. */
const SMALL_FILE = 1 << 20;
const WHITEOUT_PREFIX = ".wh.";
const OPAQUE = ".wh..wh..opq";

/** A change made ready to write, in read-ahead. */
interface Prepared {
  change: LayerChange;
  header?: TarHeader;
  /** The source's stat (for hardlink detection). */
  stat?: Stats;
  /** Source of a regular file whose body is read in order (hardlinked or large). */
  deferred?: string;
  /** Body of a small unshared regular file, read ahead. */
  body?: Buffer;
}

/**
 * Write `changes` as an OCI layer tar into `sink`: the building block every differ (naive
 * or native) ends in. Entries come out in the order given (give parents before children),
 * named without a leading `/` or `./`, directories with a trailing `/`.
 *
 * - `add`/`modify` write the source's current state: regular files, directories, symlinks,
 *   char and block devices (with devmajor/devminor) and fifos, with mode (setuid, setgid,
 *   sticky included), uid, gid, mtime truncated to seconds, and xattrs as
 *   `SCHILY.xattr.<name>` PAX records. Sockets are skipped, as docker does.
 * - Non-directories sharing an inode: the first one written carries the content; later
 *   ones become hardlink entries (typeflag `1`) naming it, as docker writes them.
 * - `delete` writes the `.wh.<name>` whiteout (an empty regular file, mode 0, mtime 0);
 *   deletes below an already deleted path are dropped.
 * - `opaque` writes `<dir>/.wh..wh..opq`.
 *
 * Nothing is hashed here: wrap the sink in a {@link HashingSink} for the diff ID, or let a
 * `ContentWriter` (which hashes) be the sink.
 * @throws InvalidArgumentError for a malformed change path or a missing source root.
 * @throws Error when a source file changes size while it is read.
 */
export async function writeLayerTar(
  changes: AsyncIterable<LayerChange> | Iterable<LayerChange>,
  sink: ByteSink,
  opts: WriteLayerTarOptions = {},
): Promise<LayerTarStats> {
  const tar = new TarWriter(sink);
  const firstPathOfInode = new Map<string, string>();
  const deleted = new Set<string>();
  let entries = 0;
  const prepared = mapOrdered(changes, opts.readAhead ?? 16, (c) => prepare(c, opts));
  for await (const p of prepared) {
    opts.signal?.throwIfAborted();
    const { change } = p;
    if (change.kind === "delete") {
      if (underDeleted(change.path, deleted)) continue;
      deleted.add(change.path);
    }
    if (!p.header) continue; // a socket
    const h = p.header;
    const st = p.stat;
    if (st && st.nlink > 1 && h.type !== "dir") {
      const key = `${st.dev}:${st.ino}`;
      const first = firstPathOfInode.get(key);
      if (first !== undefined) {
        const { xattrs: _, ...rest } = h;
        await tar.entry({ ...rest, type: "link", size: 0, linkname: first });
        entries++;
        continue;
      }
      firstPathOfInode.set(key, h.name);
    }
    if (p.deferred && st) {
      const source = p.deferred;
      if (st.size <= SMALL_FILE) await tar.entry(h, await readWhole(source, st.size));
      else await streamFile(tar, h, source);
    } else {
      await tar.entry(h, p.body);
    }
    entries++;
  }
  await tar.finish();
  return { entries, size: tar.size };
}

/** Stat, read xattrs and link target, and read a small unshared file; runs in read-ahead. */
async function prepare(change: LayerChange, opts: WriteLayerTarOptions): Promise<Prepared> {
  const rel = checkPath(change.path);
  if (change.kind === "delete" || change.kind === "opaque") {
    const name =
      change.kind === "opaque"
        ? `${rel}/${OPAQUE}`
        : `${path.posix.dirname(rel) === "." ? "" : `${path.posix.dirname(rel)}/`}${WHITEOUT_PREFIX}${path.posix.basename(rel)}`;
    const header: TarHeader = { name, type: "file", mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 };
    return { change, header };
  }
  const source = change.sourcePath ?? sourceFromRoot(rel, opts.sourceRoot);
  const st = change.stat ?? (await fs.lstat(source));
  const type = entryType(st);
  if (type === undefined) return { change }; // socket
  const xattrs =
    change.stat !== undefined
      ? filterXattrs(change.xattrs, opts.xattrFilter)
      : readXattrs(source, opts.xattrFilter);
  const header: TarHeader = {
    name: type === "dir" ? `${rel}/` : rel,
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: type === "file" ? st.size : 0,
    mtime: Math.floor(st.mtimeMs / 1000),
  };
  if (xattrs && xattrs.size > 0) header.xattrs = xattrs;
  if (type === "symlink") header.linkname = change.linkTarget ?? (await fs.readlink(source));
  if (type === "char" || type === "block") {
    const { major, minor } = splitDevice(st.rdev);
    header.devmajor = major;
    header.devminor = minor;
  }
  if (type !== "file") return { change, header, stat: st };
  if (st.nlink > 1 || st.size > SMALL_FILE) return { change, header, stat: st, deferred: source };
  return { change, header, stat: st, body: await readWhole(source, st.size) };
}

function entryType(st: Stats): TarEntryType | undefined {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  if (st.isFIFO()) return "fifo";
  return undefined;
}

/** Read exactly `size` bytes of `p` into a buffer of that size. */
async function readWhole(p: string, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  if (size === 0) return buf;
  const fh = await fs.open(p, "r");
  try {
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) throw new Error(`file "${p}": shrank while being read`);
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return buf;
}

async function streamFile(tar: TarWriter, h: TarHeader, p: string): Promise<void> {
  const fh = await fs.open(p, "r");
  try {
    await tar.begin(h);
    let left = h.size;
    let pos = 0;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(SMALL_FILE, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) throw new Error(`file "${p}": shrank while being read`);
      await tar.body(buf.subarray(0, bytesRead));
      left -= bytesRead;
      pos += bytesRead;
    }
    await tar.end();
  } finally {
    await fh.close();
  }
}

function filterXattrs(
  xattrs: ReadonlyMap<string, Buffer> | undefined,
  filter: ((name: string) => boolean) | undefined,
): ReadonlyMap<string, Buffer> | undefined {
  if (!xattrs || !filter) return xattrs;
  return new Map([...xattrs].filter(([k]) => filter(k)));
}

function underDeleted(p: string, deleted: ReadonlySet<string>): boolean {
  for (let i = p.indexOf("/"); i >= 0; i = p.indexOf("/", i + 1)) {
    if (deleted.has(p.slice(0, i))) return true;
  }
  return false;
}

function sourceFromRoot(rel: string, root: string | undefined): string {
  if (root === undefined) {
    throw new InvalidArgumentError(`layer change "${rel}": no sourcePath and no sourceRoot`);
  }
  return path.join(root, rel);
}

/** Validate a change path: relative, normalized, no `..`. */
function checkPath(p: string): string {
  const parts = p.split("/");
  if (p === "" || parts.some((s) => s === "" || s === "." || s === "..") || p.includes("\0")) {
    throw new InvalidArgumentError(`layer change "${p}": path must be relative and normalized`);
  }
  return p;
}
