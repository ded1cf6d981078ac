import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { readXattrs, sameXattrs, type Usage } from "@strata/core";

/** What {@link planLinks} found. */
export interface LinkPlan {
  /** Paths (relative to the tree) of the files identical to the parent's. */
  files: string[];
  /** Inodes and bytes the snapshot owns once those files are linked. */
  usage: Usage;
}

/**
 * Find the regular files of tree `dir` that are identical to the file at the same path in
 * the parent's tree `parentDir`, and measure what the tree owns without them.
 *
 * "Identical" means: both regular files, same mode, owner, size, mtime (ns), xattrs and
 * bytes. A file with other names inside `dir` (nlink > 1) is left out, and each parent
 * inode is used at most once, so hardlink groups inside the layer stay exactly as they
 * were once {@link applyLinks} has run.
 */
export async function planLinks(
  dir: string,
  parentDir: string,
  signal?: AbortSignal,
): Promise<LinkPlan> {
  const used = new Set<bigint>();
  const owned = new Set<bigint>();
  const files: string[] = [];
  let size = 0;

  const visit = async (rel: string): Promise<void> => {
    signal?.throwIfAborted();
    const abs = path.join(dir, rel);
    const st = await fs.lstat(abs, { bigint: true });
    if (st.isDirectory()) {
      for (const name of await fs.readdir(abs)) await visit(path.join(rel, name));
    } else if (st.isFile() && st.nlink === 1n) {
      const parentFile = path.join(parentDir, rel);
      const pst = await fs.lstat(parentFile, { bigint: true }).catch(() => undefined);
      if (pst && !used.has(pst.ino) && (await sameFile(abs, st, parentFile, pst))) {
        used.add(pst.ino);
        files.push(rel);
        return;
      }
    }
    if (!owned.has(st.ino)) {
      owned.add(st.ino);
      if (!st.isDirectory()) size += Number(st.size);
    }
  };
  await visit("");
  return { files, usage: { inodes: owned.size, size } };
}

/**
 * Replace each planned file of `dir` by a hardlink to the parent's file (link to a
 * temporary name in `tmpDir`, on the same filesystem and outside the tree so a crash
 * leaves nothing in the layer, then rename over the file: a reader sees one or the other,
 * never neither), and give the directories touched their times back.
 *
 * Call it only once `dir` is committed: committed trees never change, so no writable name
 * ever shares an inode with another snapshot. That is what makes the sharing safe.
 */
export async function applyLinks(
  dir: string,
  parentDir: string,
  files: string[],
  tmpDir: string,
): Promise<void> {
  const dirs = new Map<string, import("node:fs").BigIntStats>();
  for (const rel of files) {
    const parent = path.dirname(path.join(dir, rel));
    if (!dirs.has(parent)) dirs.set(parent, await fs.lstat(parent, { bigint: true }));
    const tmp = path.join(tmpDir, `${process.pid}-link-${randomBytes(6).toString("hex")}`);
    await fs.link(path.join(parentDir, rel), tmp);
    await fs.rename(tmp, path.join(dir, rel));
  }
  for (const [d, st] of dirs) await fs.utimes(d, nsToSeconds(st.atimeNs), nsToSeconds(st.mtimeNs));
}

async function sameFile(
  a: string,
  as: import("node:fs").BigIntStats,
  b: string,
  bs: import("node:fs").BigIntStats,
): Promise<boolean> {
  if (!bs.isFile()) return false;
  if (as.mode !== bs.mode || as.uid !== bs.uid || as.gid !== bs.gid) return false;
  if (as.size !== bs.size || as.mtimeNs !== bs.mtimeNs) return false;
  if (!sameXattrs(readXattrs(a), readXattrs(b))) return false;
  return sameBytes(a, b);
}

/** Compare two files of equal size chunk by chunk. */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([fs.open(a, "r"), fs.open(b, "r")]);
  try {
    const ba = Buffer.alloc(1 << 16);
    const bb = Buffer.alloc(1 << 16);
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length), fb.read(bb, 0, bb.length)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (ra.bytesRead === 0) return true;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

function nsToSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}
