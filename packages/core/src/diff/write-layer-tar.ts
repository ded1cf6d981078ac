import type { Stats } from "node:fs";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { InvalidArgumentError } from "../errors.js";
import type { ByteSink } from "../util/byte-sink.js";
import { splitDevice } from "../util/device.js";
import { breather } from "../util/event-loop.js";
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
}

/** What {@link writeLayerTar} wrote. */
export interface LayerTarStats {
  /** Tar entries written (whiteouts and hardlinks included, PAX headers not). */
  entries: number;
  /** Bytes of tar written, end-of-archive marker included. */
  size: number;
  /**
   * Bytes of content the layer adds: regular files' sizes plus symlink targets' lengths,
   * hardlinks not counted again (docker's layer size, as `history` shows it).
   */
  contentSize: number;
}

/** Files up to this size are read whole, into a buffer of their size; larger ones stream. */
const SMALL_FILE = 1 << 20;
const WHITEOUT_PREFIX = ".wh.";
const OPAQUE = ".wh..wh..opq";

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
 * Files up to 1 MiB are read whole into a buffer of their size with synchronous calls
 * (letting the event loop run every few hundred entries; `util/event-loop.ts` says why);
 * larger ones stream. Nothing is hashed here: wrap the sink in a {@link HashingSink} for
 * the diff ID, or let a `ContentWriter` (which hashes) be the sink.
 * @throws InvalidArgumentError for a malformed change path or a missing source root.
 * @throws Error when a source file shrinks while it is read.
 */
export async function writeLayerTar(
  changes: AsyncIterable<LayerChange> | Iterable<LayerChange>,
  sink: ByteSink,
  opts: WriteLayerTarOptions = {},
): Promise<LayerTarStats> {
  const tar = new TarWriter(sink);
  const firstPathOfInode = new Map<string, string>();
  const deleted = new Set<string>();
  const breathe = breather();
  let entries = 0;
  let contentSize = 0;
  for await (const change of changes) {
    opts.signal?.throwIfAborted();
    await breathe();
    const rel = checkPath(change.path);
    if (change.kind === "delete" || change.kind === "opaque") {
      if (change.kind === "delete") {
        if (underDeleted(rel, deleted)) continue;
        deleted.add(rel);
      }
      await tar.entry(whiteoutHeader(change.kind, rel));
      entries++;
      continue;
    }
    const source = change.sourcePath ?? sourceFromRoot(rel, opts.sourceRoot);
    const st = change.stat ?? fs.lstatSync(source);
    const h = header(change, rel, source, st, opts.xattrFilter);
    if (!h) continue; // a socket
    if (st.nlink > 1 && h.type !== "dir") {
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
    contentSize += h.type === "symlink" ? (h.linkname ?? "").length : h.size;
    if (h.type !== "file" || h.size === 0) await tar.entry(h);
    else if (h.size <= SMALL_FILE) await tar.entry(h, readWhole(source, h.size));
    else await streamFile(tar, h, source);
    entries++;
  }
  await tar.finish();
  return { entries, size: tar.size, contentSize };
}

function whiteoutHeader(kind: "delete" | "opaque", rel: string): TarHeader {
  const slash = rel.lastIndexOf("/");
  const name =
    kind === "opaque"
      ? `${rel}/${OPAQUE}`
      : `${rel.slice(0, slash + 1)}${WHITEOUT_PREFIX}${rel.slice(slash + 1)}`;
  return { name, type: "file", mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 };
}

/** The tar header of an `add`/`modify` change, or `undefined` for a socket. */
function header(
  change: LayerChange,
  rel: string,
  source: string,
  st: Stats,
  filter: ((name: string) => boolean) | undefined,
): TarHeader | undefined {
  const type = entryType(st);
  if (type === undefined) return undefined;
  const xattrs =
    change.stat !== undefined ? filterXattrs(change.xattrs, filter) : readXattrs(source, filter);
  const h: TarHeader = {
    name: type === "dir" ? `${rel}/` : rel,
    type,
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: type === "file" ? st.size : 0,
    mtime: Math.floor(st.mtimeMs / 1000),
  };
  if (xattrs && xattrs.size > 0) h.xattrs = xattrs;
  if (type === "symlink") h.linkname = change.linkTarget ?? fs.readlinkSync(source);
  if (type === "char" || type === "block") {
    const { major, minor } = splitDevice(st.rdev);
    h.devmajor = major;
    h.devminor = minor;
  }
  return h;
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

/** Read exactly `size` bytes of `p` into a buffer of that size (O_NOFOLLOW: `p` was a file). */
function readWhole(p: string, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, buf, off, size - off, off);
      if (n === 0) throw new Error(`file "${p}": shrank while being read`);
      off += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

async function streamFile(tar: TarWriter, h: TarHeader, p: string): Promise<void> {
  const fh = await fsp.open(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
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
