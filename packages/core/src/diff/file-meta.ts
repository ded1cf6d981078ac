import * as fs from "node:fs";
import { readXattrs, sameXattrs } from "../util/xattrs.js";

/** What the naive differ compares of one path: its `lstat`, xattrs and symlink target. */
export interface FileMeta {
  stat: fs.Stats;
  xattrs: ReadonlyMap<string, Buffer> | undefined;
  linkTarget?: string;
}

/**
 * Read a path's {@link FileMeta} without following a symlink at `p`, synchronously (the
 * reason is in `util/event-loop.ts`).
 * @returns `undefined` when `p` does not exist (any more).
 */
export function readFileMetaSync(
  p: string,
  filter?: (name: string) => boolean,
): FileMeta | undefined {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st) return undefined;
  const meta: FileMeta = { stat: st, xattrs: readXattrs(p, filter) };
  if (st.isSymbolicLink()) meta.linkTarget = fs.readlinkSync(p);
  return meta;
}

/**
 * Whether `b` differs from `a` in what a layer records (moby's `statDifferent` plus
 * symlink target and all xattrs): type and mode bits, uid, gid, rdev, xattrs, symlink
 * target, and for non-directories size and mtime. Directory size and mtime are ignored
 * (they change whenever a child does; moby#9874). An mtime whose nanoseconds are zero on
 * one side matches on seconds alone, as a tar-extracted file loses its nanoseconds.
 */
export function metaDiffers(a: FileMeta, b: FileMeta): boolean {
  const x = a.stat;
  const y = b.stat;
  if (x.mode !== y.mode || x.uid !== y.uid || x.gid !== y.gid || x.rdev !== y.rdev) return true;
  if (!y.isDirectory()) {
    if (x.size !== y.size || !sameMtime(x.mtimeMs, y.mtimeMs)) return true;
  }
  if (a.linkTarget !== b.linkTarget) return true;
  return !sameXattrs(a.xattrs, b.xattrs);
}

function sameMtime(a: number, b: number): boolean {
  if (a === b) return true;
  const sa = Math.floor(a / 1000);
  const sb = Math.floor(b / 1000);
  return sa === sb && (a % 1000 === 0 || b % 1000 === 0);
}
