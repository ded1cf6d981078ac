import * as fs from "node:fs";
import * as path from "node:path";
import type { AufsNative } from "../native-addon.js";
import {
  childPath,
  Errno,
  FsError,
  OPAQUE_MARKER,
  splitPath,
  type UnionEntry,
  type UnionTree,
  WHITEOUT_PREFIX,
} from "./union-tree.js";

const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = fs.constants;

/** A whiteout or opaque marker: an empty file only root can change, as AUFS makes them. */
const MARKER_MODE = 0o444;

/**
 * The write side of an AUFS union: everything that changes the writable branch besides
 * the plain operation itself. Copy-up copies an entry from a read-only branch into the
 * writable one with its mode, owner, times and xattrs (parents first, each directory
 * alone); removing an entry that a lower branch also holds leaves a `.wh.<name>` whiteout;
 * a directory made where a whiteout was becomes opaque.
 *
 * New copies are written under the work directory (on the writable branch's filesystem)
 * and renamed into place, so a crash never leaves a half-copied file in the branch.
 */
export class UnionWriter {
  private seq = 0;

  constructor(
    private readonly tree: UnionTree,
    private readonly native: AufsNative,
    private readonly workdir: string,
  ) {
    if (!tree.rw) throw new Error("aufs: a read-only union has no writer");
  }

  /** Absolute path of `p` in the writable branch. */
  rw(p: string): string {
    return this.tree.abs(0, p);
  }

  /**
   * Make sure the writable branch holds directory `p` and its parents, copying each up
   * from the branch that shows it.
   * @throws FsError ENOENT / ENOTDIR when `p` is not a visible directory.
   */
  ensureDir(p: string): void {
    if (p === "/") return;
    const e = this.tree.lookup(p);
    if (!e) throw new FsError(Errno.ENOENT);
    if (!e.dir) throw new FsError(Errno.ENOTDIR);
    if (this.tree.isRw(e.top)) return;
    this.ensureDir(splitPath(p)[0]);
    const src = this.tree.abs(e.top, p);
    const st = fs.lstatSync(src, { bigint: true });
    const dst = this.rw(p);
    this.keepingParentTimes(p, () => fs.mkdirSync(dst, 0o700));
    this.copyMeta(src, dst, st);
    this.tree.forget(p);
  }

  /**
   * Copy the non-directory `p` (entry `e`) up into the writable branch. With `truncate`,
   * only its metadata is copied (an open with O_TRUNC or a truncate to 0 follows).
   */
  copyUp(p: string, e: UnionEntry, truncate = false): void {
    if (this.tree.isRw(e.top)) return;
    if (e.dir) {
      this.ensureDir(p);
      return;
    }
    this.ensureDir(splitPath(p)[0]);
    const src = this.tree.abs(e.top, p);
    const st = fs.lstatSync(src, { bigint: true });
    const tmp = this.copyEntry(src, st, truncate);
    const copied = fs.lstatSync(tmp).ino;
    this.keepingParentTimes(p, () => fs.renameSync(tmp, this.rw(p)));
    // Keep showing the origin's inode number, unless other names still share it below.
    if (st.nlink === 1n) this.tree.setXino(copied, this.originIno(e, st));
    this.tree.forget(p);
  }

  /** Hide `parent/name` of the lower branches with a whiteout. */
  whiteout(parent: string, name: string): void {
    this.ensureDir(parent);
    const wh = this.rw(childPath(parent, WHITEOUT_PREFIX + name));
    try {
      fs.closeSync(fs.openSync(wh, O_CREAT | O_WRONLY | O_NOFOLLOW, MARKER_MODE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }

  /** Remove the writable branch's whiteout of `parent/name`; true when there was one. */
  unwhiteout(parent: string, name: string): boolean {
    const wh = this.rw(childPath(parent, WHITEOUT_PREFIX + name));
    // lstat first: most names have no whiteout, and a thrown ENOENT costs more than a call.
    if (!fs.lstatSync(wh, { throwIfNoEntry: false })) return false;
    fs.unlinkSync(wh);
    return true;
  }

  /** Mark the writable branch's directory `p` opaque. */
  markOpaque(p: string): void {
    const marker = this.rw(childPath(p, OPAQUE_MARKER));
    try {
      fs.closeSync(fs.openSync(marker, O_CREAT | O_WRONLY | O_NOFOLLOW, MARKER_MODE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }

  /**
   * Copy the visible tree at `p` (a directory) into a new directory under the work
   * directory, hardlinks kept as hardlinks, and return its path: how a directory that
   * lower branches contribute to is renamed.
   */
  copyTree(p: string): string {
    const dst = this.tmpPath();
    this.copyInto(p, dst, new Map());
    return dst;
  }

  private copyInto(p: string, dst: string, links: Map<bigint, string>): void {
    const e = this.tree.lookup(p);
    if (!e) throw new FsError(Errno.ENOENT);
    const src = this.tree.abs(e.top, p);
    const st = fs.lstatSync(src, { bigint: true });
    if (!e.dir) {
      const first = st.nlink > 1n ? links.get(st.ino) : undefined;
      if (first) {
        fs.linkSync(first, dst);
        return;
      }
      this.copyEntryTo(src, st, dst, false);
      if (st.nlink > 1n) links.set(st.ino, dst);
      // The kernel keeps the moved names' inodes: keep showing their numbers.
      else this.tree.setXino(fs.lstatSync(dst).ino, this.originIno(e, st));
      return;
    }
    fs.mkdirSync(dst, 0o700);
    for (const name of this.tree.readdir(p, e)) {
      this.copyInto(childPath(p, name), path.join(dst, name), links);
    }
    this.copyMeta(src, dst, st);
  }

  /** The inode number the union showed for `e` (stat `st` of it in its top branch). */
  private originIno(e: UnionEntry, st: fs.BigIntStats): number {
    return this.tree.isRw(e.top) ? this.tree.shownIno(Number(st.ino)) : Number(st.ino);
  }

  /** Whether `p` lies in the work directory. */
  inWorkdir(p: string): boolean {
    return p.startsWith(`${this.workdir}/`);
  }

  /** A fresh name in the work directory. */
  tmpPath(): string {
    return path.join(this.workdir, `copy-${process.pid}-${++this.seq}`);
  }

  /** Copy the non-directory `src` to a fresh work path, metadata included. */
  private copyEntry(src: string, st: fs.BigIntStats, empty: boolean): string {
    const tmp = this.tmpPath();
    this.copyEntryTo(src, st, tmp, empty);
    return tmp;
  }

  private copyEntryTo(src: string, st: fs.BigIntStats, tmp: string, empty: boolean): void {
    if (st.isFile()) {
      if (empty) fs.closeSync(fs.openSync(tmp, O_CREAT | O_EXCL | O_WRONLY, 0o600));
      else fs.copyFileSync(src, tmp, fs.constants.COPYFILE_EXCL);
    } else if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(src), tmp);
    } else {
      const r = this.native.mknod(tmp, Number(st.mode), Number(st.rdev));
      if (r < 0) throw new FsError(r, `mknod ${tmp}`);
    }
    this.copyMeta(src, tmp, st);
  }

  /**
   * Run `link` (which adds `p` to its writable-branch parent) and put the parent's times back
   * as they were: a copy-up is not a change of the directory that holds it, so the parent
   * keeps the times the union showed (overlayfs restores them the same way). Otherwise a
   * container that only removed `a/b/f` would commit `a/` with the time of the removal.
   */
  private keepingParentTimes(p: string, link: () => void): void {
    const parent = this.rw(splitPath(p)[0]);
    const pst = fs.lstatSync(parent, { bigint: true });
    link();
    this.setTimes(parent, pst);
  }

  /** Set `dst`'s atime and mtime to those of `st`, to the nanosecond. */
  private setTimes(dst: string, st: fs.BigIntStats): void {
    const r = this.native.utimens(
      dst,
      Number(st.atimeNs / 1_000_000_000n),
      Number(st.atimeNs % 1_000_000_000n),
      Number(st.mtimeNs / 1_000_000_000n),
      Number(st.mtimeNs % 1_000_000_000n),
    );
    if (r < 0) throw new FsError(r, `utimens ${dst}`);
  }

  /** Owner, mode (after the owner: chown clears setuid), xattrs and times of `src` on `dst`. */
  copyMeta(src: string, dst: string, st: fs.BigIntStats): void {
    fs.lchownSync(dst, Number(st.uid), Number(st.gid));
    if (!st.isSymbolicLink()) fs.chmodSync(dst, Number(st.mode & 0o7777n));
    this.copyXattrs(src, dst);
    this.setTimes(dst, st);
  }

  /** Copy every extended attribute of `src` to `dst`. */
  copyXattrs(src: string, dst: string): void {
    const list = this.native.listxattr(src);
    if (typeof list === "number") {
      if (list === Errno.ENOTSUP) return;
      throw new FsError(list, `listxattr ${src}`);
    }
    for (const name of list.toString("utf8").split("\0")) {
      if (!name) continue;
      const value = this.native.getxattr(src, name);
      if (typeof value === "number") {
        if (value === Errno.ENODATA) continue;
        throw new FsError(value, `getxattr ${src} ${name}`);
      }
      const r = this.native.setxattr(dst, name, value, 0);
      if (r < 0) throw new FsError(r, `setxattr ${dst} ${name}`);
    }
  }
}
