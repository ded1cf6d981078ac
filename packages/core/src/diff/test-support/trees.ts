/**
 * Helpers for the diff unit tests (not exported from the package): temporary trees, a
 * tree snapshot to compare, and tar listings through tar-stream and GNU tar, which are
 * independent of strata's own tar codec.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { getAttributeSync, listAttributesSync, setAttributeSync } from "@napi-rs/xattr";
import * as tarStream from "tar-stream";

/** True when running as root (device nodes, chown, trusted.* xattrs, mounts). */
export const isRoot = process.getuid?.() === 0;

/**
 * Whether cases that need root are skipped here: only when not root and not under
 * `CI=true` (where they must run, and fail without root, rather than pass by skipping).
 */
export const skipWithoutRoot = !isRoot && process.env.CI !== "true";

/** Temporary directories made by {@link tempDir}; removed by {@link cleanupTemp}. */
const made: string[] = [];

/** A fresh directory under `os.tmpdir()`. */
export async function tempDir(prefix = "strata-diff-"): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Remove every directory {@link tempDir} made (unmounting first if needed). */
export async function cleanupTemp(): Promise<void> {
  for (const d of made.splice(0)) {
    spawnSync("umount", ["-R", d], { stdio: "ignore" });
    await fs.rm(d, { recursive: true, force: true });
  }
}

/** What the tests compare of one path. */
export interface Entry {
  type: string;
  mode: string;
  owner: string;
  size?: number;
  sha256?: string;
  target?: string;
  rdev?: string;
  /** Whole seconds; directories too (except the root). */
  mtime?: number;
  xattrs: Record<string, string>;
  /** First path (sorted) of the inode's names, for non-directories with several. */
  linkGroup?: string;
}

/** Every path under `root` (not `root` itself) with its {@link Entry}, sorted. */
export async function snapshotTree(root: string): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  const inodes = new Map<string, string[]>();
  async function walk(rel: string): Promise<void> {
    const abs = path.join(root, rel);
    for (const name of (await fs.readdir(abs)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = path.join(root, r);
      const st = await fs.lstat(p);
      const e: Entry = {
        type: typeOf(st),
        mode: (st.mode & 0o7777).toString(8),
        owner: `${st.uid}:${st.gid}`,
        mtime: Math.floor(st.mtimeMs / 1000),
        xattrs: {},
      };
      for (const x of listAttributesSync(p).sort()) {
        e.xattrs[x] = getAttributeSync(p, x)?.toString("hex") ?? "";
      }
      if (st.isFile()) {
        e.size = st.size;
        e.sha256 = createHash("sha256")
          .update(await fs.readFile(p))
          .digest("hex");
      }
      if (st.isSymbolicLink()) e.target = await fs.readlink(p);
      if (st.isCharacterDevice() || st.isBlockDevice()) e.rdev = String(st.rdev);
      if (!st.isDirectory() && st.nlink > 1) {
        const k = `${st.dev}:${st.ino}`;
        inodes.set(k, [...(inodes.get(k) ?? []), r]);
      }
      out[r] = e;
      if (st.isDirectory()) await walk(r);
    }
  }
  await walk("");
  for (const names of inodes.values()) {
    if (names.length < 2) continue;
    const first = [...names].sort()[0]!;
    for (const n of names) out[n]!.linkGroup = first;
  }
  return out;
}

function typeOf(st: import("node:fs").Stats): string {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  return "socket";
}

/** Copy a tree preserving everything `cp -a` can (xattrs, hardlinks, devices, times). */
export function copyTree(src: string, dst: string): void {
  execFileSync("cp", ["-a", "--preserve=all", `${src}/.`, dst]);
}

/** Write a file, creating its parents; optional mode, owner and mtime (seconds). */
export async function put(
  root: string,
  rel: string,
  content: string | Buffer,
  opts: { mode?: number; uid?: number; gid?: number; mtime?: number } = {},
): Promise<string> {
  const p = path.join(root, rel);
  await fs.mkdir(path.dirname(p), { recursive: true });
  await fs.writeFile(p, content);
  if (opts.uid !== undefined) await fs.chown(p, opts.uid, opts.gid ?? opts.uid);
  if (opts.mode !== undefined) await fs.chmod(p, opts.mode);
  if (opts.mtime !== undefined) await fs.utimes(p, opts.mtime, opts.mtime);
  return p;
}

/** Set an xattr (not following symlinks). */
export function setXattr(p: string, name: string, value: string | Buffer): void {
  setAttributeSync(p, name, value);
}

/** A tar entry as tar-stream reads it (names as written, pax records as text). */
export interface ListedEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
  body?: Buffer;
}

/** List a tar through tar-stream's extractor (an independent reader). */
export async function listWithTarStream(tar: Buffer): Promise<ListedEntry[]> {
  const ex = tarStream.extract();
  const out: ListedEntry[] = [];
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header;
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const e: ListedEntry = {
        name: h.name,
        type: h.type,
        mode: h.mode,
        uid: h.uid,
        gid: h.gid,
        size: h.size,
        mtime: Math.floor(h.mtime.getTime() / 1000),
      };
      if (h.linkname) e.linkname = h.linkname;
      if (h.type === "character-device" || h.type === "block-device") {
        e.devmajor = h.devmajor;
        e.devminor = h.devminor;
      }
      if (h.pax) e.pax = h.pax as Record<string, string>;
      if (chunks.length) e.body = Buffer.concat(chunks);
      out.push(e);
    }
  })();
  ex.end(tar);
  await done;
  return out;
}

/** `tar -tvf` of a tar held in memory (GNU tar's own listing). */
export function gnuTarList(tar: Buffer, ...flags: string[]): string[] {
  const out = execFileSync("tar", ["--numeric-owner", ...flags, "-tvf", "-"], { input: tar });
  return out.toString().trim().split("\n").filter(Boolean);
}

/** Build a tar with tar-stream (for hand-made, possibly hostile, layers). */
export async function packWithTarStream(
  entries: readonly (Partial<tarStream.Header> & { name: string; body?: string })[],
): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body !== undefined) pack.entry({ mtime: new Date(1e12), ...h }, body, cb);
      else pack.entry({ mtime: new Date(1e12), ...h }, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Collect an async iterable of bytes. */
export async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of src) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** A ByteSink that keeps everything in memory. */
export function memorySink(): { write(c: Uint8Array): Promise<void>; bytes(): Buffer } {
  const parts: Buffer[] = [];
  return {
    async write(c) {
      parts.push(Buffer.from(c));
    },
    bytes: () => Buffer.concat(parts),
  };
}
