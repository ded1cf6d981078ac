import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { getAttribute, listAttributes } from "@napi-rs/xattr";

/** The type of one filesystem entry, as {@link captureTree} reports it. */
export type TreeEntryType = "dir" | "file" | "symlink" | "fifo" | "char" | "block" | "socket";

/**
 * Everything the kit compares about one filesystem entry. Fields that do not apply to the
 * type are absent (a directory has no `digest`, a file no `target`).
 */
export interface TreeEntry {
  type: TreeEntryType;
  /** Permission bits including setuid, setgid and sticky (`mode & 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Size in bytes of regular files. */
  size?: number;
  /** sha256 of a regular file's content. */
  digest?: string;
  /** Target of a symlink. */
  target?: string;
  /** `major:minor` of a device node. */
  rdev?: string;
  /** Modification time in whole seconds; not kept for directories and symlinks. */
  mtime?: number;
  /** Extended attributes (all namespaces), values as UTF-8 text or `0x<hex>` when binary. */
  xattrs: Record<string, string>;
  /** For an entry with several names in the tree: the first of them (sorted order). */
  linkGroup?: string;
}

/** A captured tree: relative path (`.` for the root, `/`-separated) to entry. */
export type Tree = Map<string, TreeEntry>;

/**
 * Record every entry under `dir` (including `dir` itself as `.`) without following
 * symlinks: type, mode, owner, size and content digest, link target, device numbers,
 * file mtimes, xattrs and hardlink grouping.
 */
export async function captureTree(dir: string): Promise<Tree> {
  const raw = new Map<string, { entry: TreeEntry; ino: bigint; dev: bigint }>();
  await walk(dir, ".", raw);
  const byInode = new Map<string, string[]>();
  for (const [rel, { entry, ino, dev }] of raw) {
    if (entry.type === "dir") continue;
    const id = `${dev}:${ino}`;
    byInode.set(id, [...(byInode.get(id) ?? []), rel]);
  }
  const tree: Tree = new Map();
  for (const rel of [...raw.keys()].sort()) tree.set(rel, raw.get(rel)!.entry);
  for (const names of byInode.values()) {
    if (names.length < 2) continue;
    const first = [...names].sort()[0]!;
    for (const n of names) tree.get(n)!.linkGroup = first;
  }
  return tree;
}

async function walk(
  root: string,
  rel: string,
  out: Map<string, { entry: TreeEntry; ino: bigint; dev: bigint }>,
): Promise<void> {
  const abs = rel === "." ? root : path.join(root, rel);
  const st = await fs.lstat(abs, { bigint: true });
  const type = typeOf(st);
  const entry: TreeEntry = {
    type,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    xattrs: await readXattrs(abs),
  };
  if (type === "file") {
    entry.size = Number(st.size);
    entry.digest = await fileDigest(abs);
  }
  if (type === "symlink") entry.target = await fs.readlink(abs);
  if (type === "char" || type === "block") entry.rdev = formatRdev(st.rdev);
  if (type !== "dir" && type !== "symlink") entry.mtime = Number(st.mtimeMs / 1000n);
  out.set(rel, { entry, ino: st.ino, dev: st.dev });
  if (type === "dir") {
    for (const name of await fs.readdir(abs)) {
      await walk(root, rel === "." ? name : `${rel}/${name}`, out);
    }
  }
}

function typeOf(st: import("node:fs").BigIntStats): TreeEntryType {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFIFO()) return "fifo";
  if (st.isCharacterDevice()) return "char";
  if (st.isBlockDevice()) return "block";
  return "socket";
}

/** Linux's `major:minor` split of a device number. */
function formatRdev(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

async function readXattrs(abs: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await listAttributes(abs)).sort()) {
    const value = await getAttribute(abs, name);
    if (value) out[name] = formatValue(value);
  }
  return out;
}

function formatValue(buf: Buffer): string {
  const text = buf.toString("utf8");
  const printable = Buffer.from(text, "utf8").equals(buf) && !buf.some((b) => b < 0x20);
  return printable ? text : `0x${buf.toString("hex")}`;
}

async function fileDigest(abs: string): Promise<string> {
  const hash = createHash("sha256");
  const fh = await fs.open(abs, "r");
  try {
    for await (const chunk of fh.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => {});
  }
  return `sha256:${hash.digest("hex")}`;
}

/** Options of {@link compareTrees}. */
export interface CompareOptions {
  /** Paths to leave out of the comparison (and their subtrees). */
  ignore?: (rel: string) => boolean;
  /** Compare the root entry `.` too; default true. */
  root?: boolean;
}

/**
 * The differences between two captured trees, one readable line each
 * (`usr/bin/passwd: mode expected 4755, got 755`); empty when they are equal.
 */
export function compareTrees(expected: Tree, actual: Tree, opts: CompareOptions = {}): string[] {
  const skip = (rel: string) =>
    (opts.root === false && rel === ".") ||
    (opts.ignore !== undefined && ancestors(rel).some((a) => opts.ignore!(a)));
  const out: string[] = [];
  for (const [rel, want] of expected) {
    if (skip(rel)) continue;
    const got = actual.get(rel);
    if (!got) {
      out.push(`${rel}: missing (expected ${want.type})`);
      continue;
    }
    for (const field of FIELDS) {
      const a = show(field, want[field]);
      const b = show(field, got[field]);
      if (a !== b) out.push(`${rel}: ${field} expected ${a}, got ${b}`);
    }
  }
  for (const [rel, got] of actual) {
    if (!skip(rel) && !expected.has(rel)) out.push(`${rel}: unexpected ${got.type}`);
  }
  return out;
}

const FIELDS = [
  "type",
  "mode",
  "uid",
  "gid",
  "size",
  "digest",
  "target",
  "rdev",
  "mtime",
  "xattrs",
  "linkGroup",
] as const;

function show(field: (typeof FIELDS)[number], v: unknown): string {
  if (v === undefined) return "none";
  if (field === "mode") return (v as number).toString(8);
  if (field === "mtime") return new Date((v as number) * 1000).toISOString();
  return typeof v === "string" ? v : JSON.stringify(v);
}

function ancestors(rel: string): string[] {
  const parts = rel.split("/");
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

/**
 * Throw an `AssertionError`-like error listing the differences when the trees differ.
 * @throws Error whose message names each differing path and field (the first 40).
 */
export function assertTreesEqual(
  expected: Tree,
  actual: Tree,
  what: string,
  opts?: CompareOptions,
): void {
  const diffs = compareTrees(expected, actual, opts);
  if (diffs.length === 0) return;
  const shown = diffs.slice(0, 40).join("\n  ");
  const more = diffs.length > 40 ? `\n  … and ${diffs.length - 40} more` : "";
  throw new Error(`${what}: ${diffs.length} difference(s):\n  ${shown}${more}`);
}

/** The tree as `path type mode` lines, for failure messages and debugging. */
export function formatTree(tree: Tree): string {
  return [...tree]
    .map(([rel, e]) => `${rel} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid}`)
    .join("\n");
}
