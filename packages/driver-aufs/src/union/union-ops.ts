import * as fs from "node:fs";
import type { AufsNative } from "../native-addon.js";
import { type StatfsAnswer, statArray } from "./fuse-native-ops.js";
import {
  Errno,
  FsError,
  splitPath,
  type UnionEntry,
  type UnionTree,
  WHITEOUT_PREFIX,
} from "./union-tree.js";
import type { UnionWriter } from "./union-writer.js";

const O_ACCMODE = 3;
const { O_RDONLY, O_RDWR, O_TRUNC, O_CREAT, O_EXCL, O_NOCTTY, O_APPEND, O_NOATIME, O_NOFOLLOW } =
  fs.constants;
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
/** The uid or gid FUSE passes for "unchanged" (-1). */
const UNCHANGED_ID = 0xffff_ffff;
/**
 * The name libfuse renames a file to when it is unlinked (or renamed over) while open; it
 * unlinks that name after the last close. The union keeps such files out of every branch.
 */
const HIDDEN_NAME = /^\.fuse_hidden[0-9a-f]{16}$/;
/** AUFS reserves 4 bytes of every name for the whiteout prefix. */
const NAME_MAX = 255 - WHITEOUT_PREFIX.length;

/**
 * The FUSE operations of an AUFS union. Each returns its answer (a value, or 0) or throws
 * an error carrying a negative errno; {@link fuseNativeOps} adapts them to fuse-native's
 * callbacks. Every one is synchronous: the event loop serves one metadata request at a
 * time, which keeps copy-up and whiteout bookkeeping free of races, while file data
 * (read, write, fsync, release) never reaches JavaScript: the native helper serves it on
 * libfuse's threads from the descriptors `open` and `create` return.
 *
 * New entries are made as root in the writable branch and then given the owner the
 * native helper reports for the request: the caller's uid, and its gid unless the parent
 * directory is setgid (the kernel then gave the entry the parent's group).
 */
export class UnionOperations {
  private readonly ctx = new Int32Array(6);
  private warnedContext = false;
  /** Files unlinked while open: libfuse's hidden name → where the file now is. */
  private readonly hidden = new Map<string, string>();

  constructor(
    private readonly tree: UnionTree,
    private readonly writer: UnionWriter | undefined,
    private readonly native: AufsNative,
    private readonly log: (msg: string) => void = () => {},
  ) {
    tree.onXino = (backing, shown) => native.setShownIno(backing, shown);
    tree.onPassthrough = (p, branchDir, below, writable) => {
      if (branchDir === undefined) native.forgetPassthrough(p, below);
      else native.passthroughDir(p, branchDir, writable);
    };
  }

  getattr(p: string): Uint32Array {
    const h = this.hidden.get(p);
    if (h !== undefined) {
      const st = fs.lstatSync(h);
      return statArray(st, this.tree.shownIno(st.ino), st.nlink);
    }
    const e = this.entry(p);
    const st = this.tree.stat(p, e);
    if (!e.dir) return statArray(st, this.tree.fileIno(e, st), st.nlink);
    // A merged directory's link count is unknown (find and fts then make no guesses).
    return statArray(st, this.tree.dirIno(p, e, st), e.dirs.length > 1 ? 1 : st.nlink);
  }

  readdir(p: string): string[] {
    const e = this.entry(p);
    if (!e.dir) throw new FsError(Errno.ENOTDIR);
    return [".", "..", ...this.tree.readdir(p, e)];
  }

  readlink(p: string): string {
    return fs.readlinkSync(this.backing(p));
  }

  open(p: string, flags: number): number {
    const h = this.hidden.get(p);
    if (h !== undefined) return fs.openSync(h, (flags & O_ACCMODE) | O_NOFOLLOW);
    const e = this.entry(p);
    const writing = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0;
    if (!writing) {
      const noatime = this.tree.isRw(e.top) ? 0 : O_NOATIME;
      return fs.openSync(this.tree.abs(e.top, p), O_RDONLY | O_NOFOLLOW | noatime);
    }
    const w = this.writable();
    w.copyUp(p, e, (flags & O_TRUNC) !== 0);
    return fs.openSync(w.rw(p), (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_APPEND)) | O_NOFOLLOW);
  }

  create(p: string, mode: number): number {
    const { uid, gid, flags } = this.caller();
    const { w } = this.prepareNew(p);
    const extra = flags & ~(O_ACCMODE | O_APPEND | O_NOCTTY);
    const fd = fs.openSync(w.rw(p), O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | extra, mode & 0o7777);
    try {
      this.own(w.rw(p), fd, uid, gid, mode);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    this.tree.forget(p);
    return fd;
  }

  mkdir(p: string, mode: number): number {
    const { uid, gid } = this.caller();
    const { w, hidden } = this.prepareNew(p);
    fs.mkdirSync(w.rw(p), mode & 0o7777);
    if (hidden) w.markOpaque(p); // lower content was removed: keep it hidden
    this.own(w.rw(p), undefined, uid, gid, mode);
    this.tree.forget(p);
    return 0;
  }

  mknod(p: string, mode: number, dev: number): number {
    const { uid, gid } = this.caller();
    const { w } = this.prepareNew(p);
    const r = this.native.mknod(w.rw(p), mode, dev);
    if (r < 0) throw new FsError(r);
    this.own(w.rw(p), undefined, uid, gid, mode);
    this.tree.forget(p);
    return 0;
  }

  symlink(target: string, p: string): number {
    const { uid, gid } = this.caller();
    const { w } = this.prepareNew(p);
    fs.symlinkSync(target, w.rw(p));
    this.own(w.rw(p), undefined, uid, gid, undefined);
    this.tree.forget(p);
    return 0;
  }

  link(src: string, dst: string): number {
    const w = this.writable();
    const se = this.entry(src);
    if (se.dir) throw new FsError(Errno.EPERM);
    w.copyUp(src, se);
    this.prepareNew(dst);
    fs.linkSync(w.rw(src), w.rw(dst));
    this.tree.forget(dst);
    this.aliasesChanged(w.rw(src)); // the other names' link count
    return 0;
  }

  unlink(p: string): number {
    const h = this.hidden.get(p);
    if (h !== undefined) {
      this.hidden.delete(p);
      if (this.writer?.inWorkdir(h)) {
        const st = fs.lstatSync(h);
        this.tree.dropXino(st);
        fs.unlinkSync(h);
        if (st.nlink > 1) this.native.invalidateIno(this.tree.shownIno(st.ino));
      }
      return 0;
    }
    const w = this.writable();
    const e = this.entry(p);
    if (e.dir) throw new FsError(Errno.EISDIR);
    this.remove(w, p, e);
    return 0;
  }

  rmdir(p: string): number {
    const w = this.writable();
    const e = this.entry(p);
    if (!e.dir) throw new FsError(Errno.ENOTDIR);
    if (this.tree.readdir(p, e).length > 0) throw new FsError(Errno.ENOTEMPTY);
    this.remove(w, p, e);
    return 0;
  }

  rename(src: string, dst: string): number {
    const w = this.writable();
    const se = this.entry(src);
    const [dstParent, dstName] = splitPath(dst);
    if (HIDDEN_NAME.test(dstName)) return this.hide(w, src, se, dst);
    if (dstName.startsWith(WHITEOUT_PREFIX)) throw new FsError(Errno.EPERM);
    const de = this.tree.lookup(dst);
    if (de) {
      if (de.dir && !se.dir) throw new FsError(Errno.EISDIR);
      if (!de.dir && se.dir) throw new FsError(Errno.ENOTDIR);
      if (de.dir && this.tree.readdir(dst, de).length > 0) throw new FsError(Errno.ENOTEMPTY);
    }
    const [srcParent, srcName] = splitPath(src);
    const srcLower = this.tree.lowerKind(srcParent, srcName) !== 0;
    const dstLowerDir = this.tree.lowerKind(dstParent, dstName) === 2;
    w.ensureDir(dstParent);
    if (de?.dir && this.tree.isRw(de.top)) fs.rmSync(w.rw(dst), { recursive: true });
    if (!se.dir) {
      w.copyUp(src, se);
      if (de && this.tree.isRw(de.top)) this.tree.dropXino(fs.lstatSync(w.rw(dst)));
      w.unwhiteout(dstParent, dstName);
      fs.renameSync(w.rw(src), w.rw(dst));
    } else if (se.dirs.length === 1 && this.tree.isRw(se.top)) {
      // A directory only the writable branch holds moves as it is.
      const hidden = w.unwhiteout(dstParent, dstName);
      fs.renameSync(w.rw(src), w.rw(dst));
      // What lower branches hold under the new name (visible, or hidden by the whiteout
      // just removed) must stay hidden.
      if (dstLowerDir || hidden) w.markOpaque(dst);
    } else {
      // Lower branches contribute: copy the merged tree up under the new name.
      const copy = w.copyTree(src);
      const hidden = w.unwhiteout(dstParent, dstName);
      fs.renameSync(copy, w.rw(dst));
      // The copy holds the whole merged tree: only lower content under the new name is
      // left to hide (an opaque marker without any would be a needless layer entry).
      if (dstLowerDir || hidden) w.markOpaque(dst);
      if (this.tree.isRw(se.top)) fs.rmSync(w.rw(src), { recursive: true });
    }
    this.tree.forgetTree(src);
    this.tree.forgetTree(dst);
    if (srcLower) w.whiteout(srcParent, srcName);
    return 0;
  }

  chmod(p: string, mode: number): number {
    return this.change(p, (rw) => fs.chmodSync(rw, mode & 0o7777));
  }

  chown(p: string, uid: number, gid: number): number {
    const id = (n: number) => (n === UNCHANGED_ID ? -1 : n);
    return this.change(p, (rw) => fs.lchownSync(rw, id(uid), id(gid)));
  }

  utimens(p: string): number {
    return this.change(p, (rw) => check(this.native.utimensRequest(rw)));
  }

  truncate(p: string, size: number): number {
    return this.change(p, (rw) => fs.truncateSync(rw, size), size === 0);
  }

  setxattr(p: string, name: string, value: Buffer, flags: number): number {
    return this.change(p, (rw) => check(this.native.setxattr(rw, name, value, flags)));
  }

  removexattr(p: string, name: string): number {
    return this.change(p, (rw) => check(this.native.removexattr(rw, name)));
  }

  getxattr(p: string, name: string): Buffer {
    const v = this.native.getxattr(this.backing(p), name);
    if (typeof v === "number") throw new FsError(v);
    return v;
  }

  listxattr(p: string): string[] {
    const v = this.native.listxattr(this.backing(p));
    if (typeof v === "number") {
      if (v === Errno.ENOTSUP) return [];
      throw new FsError(v);
    }
    return v
      .toString("utf8")
      .split("\0")
      .filter((n) => n !== "");
  }

  statfs(): StatfsAnswer {
    const s = fs.statfsSync(this.tree.abs(0, "/"));
    return {
      bsize: s.bsize,
      frsize: s.bsize,
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
      favail: s.ffree,
      fsid: 0,
      flag: 0,
      namemax: NAME_MAX,
    };
  }

  /** The visible entry at `p`. @throws FsError ENOENT */
  private entry(p: string): UnionEntry {
    const e = this.tree.lookup(p);
    if (!e) throw new FsError(Errno.ENOENT);
    return e;
  }

  /** Where the file visible (or hidden) at `p` is. @throws FsError ENOENT */
  private backing(p: string): string {
    const h = this.hidden.get(p);
    if (h !== undefined) return h;
    return this.tree.abs(this.entry(p).top, p);
  }

  /** Copy `p` up if needed (only its metadata when `empty`), then change it in place. */
  private change(p: string, fn: (rw: string) => void, empty = false): number {
    const w = this.writable();
    const h = this.hidden.get(p);
    if (h !== undefined) {
      if (!w.inWorkdir(h)) throw new FsError(Errno.EPERM); // an unlinked lower file stays
      fn(h);
      return 0;
    }
    w.copyUp(p, this.entry(p), empty);
    fn(w.rw(p));
    this.aliasesChanged(w.rw(p));
    return 0;
  }

  /** After a change to the file at `rw`: drop its other names' cached attributes. */
  private aliasesChanged(rw: string): void {
    const st = fs.lstatSync(rw, { throwIfNoEntry: false });
    if (st && !st.isDirectory() && st.nlink > 1) {
      this.native.invalidateIno(this.tree.shownIno(st.ino));
    }
  }

  /**
   * Unlink `src` for libfuse, which keeps it reachable as `hiddenPath` while it is open:
   * a file of the writable branch moves to the work directory, a lower one stays where it
   * is; either way the name disappears from the union (whiteout included).
   */
  private hide(w: UnionWriter, src: string, se: UnionEntry, hiddenPath: string): number {
    if (se.dir) throw new FsError(Errno.EISDIR);
    const [parent, name] = splitPath(src);
    const lower = this.tree.lowerKind(parent, name) !== 0;
    if (this.tree.isRw(se.top)) {
      const moved = w.tmpPath();
      fs.renameSync(w.rw(src), moved);
      this.hidden.set(hiddenPath, moved);
      this.aliasesChanged(moved);
    } else {
      this.hidden.set(hiddenPath, this.tree.abs(se.top, src));
    }
    this.tree.forget(src);
    if (lower) w.whiteout(parent, name);
    return 0;
  }

  /**
   * Get the writable branch ready for a new entry at `p`: parents copied up, a whiteout
   * of the name removed (`hidden`: a directory made there must be opaque).
   */
  private prepareNew(p: string): { w: UnionWriter; hidden: boolean } {
    const w = this.writable();
    const [parent, name] = splitPath(p);
    if (name.startsWith(WHITEOUT_PREFIX)) throw new FsError(Errno.EPERM);
    if (this.tree.lookup(p)) throw new FsError(Errno.EEXIST);
    w.ensureDir(parent);
    return { w, hidden: w.unwhiteout(parent, name) };
  }

  /**
   * Give a new entry (made by this root process) its creator's owner. chown clears setuid
   * and setgid, so those mode bits are set again after it.
   */
  private own(
    rw: string,
    fd: number | undefined,
    uid: number,
    gid: number,
    mode: number | undefined,
  ): void {
    if (uid === 0 && gid === 0) return;
    const setgidParent = (fs.statSync(splitPath(rw)[0]).mode & S_ISGID) !== 0;
    const newGid = setgidParent ? -1 : gid;
    if (fd === undefined) fs.lchownSync(rw, uid, newGid);
    else fs.fchownSync(fd, uid, newGid);
    if (mode !== undefined && (mode & (S_ISUID | S_ISGID)) !== 0) {
      if (fd === undefined) fs.chmodSync(rw, mode & 0o7777);
      else fs.fchmodSync(fd, mode & 0o7777);
    }
  }

  /** Remove visible entry `p` from the writable branch, with a whiteout when lower
   * branches hold it too. */
  private remove(w: UnionWriter, p: string, e: UnionEntry): void {
    const [parent, name] = splitPath(p);
    const lower = this.tree.lowerKind(parent, name) !== 0;
    if (this.tree.isRw(e.top)) {
      if (e.dir) {
        fs.rmSync(w.rw(p), { recursive: true }); // holds whiteouts only
      } else {
        const st = fs.lstatSync(w.rw(p));
        this.tree.dropXino(st);
        fs.unlinkSync(w.rw(p));
        if (st.nlink > 1) this.native.invalidateIno(this.tree.shownIno(st.ino));
      }
    }
    if (e.dir) this.tree.forgetTree(p);
    else this.tree.forget(p);
    if (lower) w.whiteout(parent, name);
  }

  /** The identity behind the current creating request. */
  private caller(): { uid: number; gid: number; flags: number } {
    this.native.requestContext(this.ctx);
    if (this.ctx[0] !== 1) {
      if (!this.warnedContext) {
        this.warnedContext = true;
        this.log("no FUSE request context: new entries belong to root");
      }
      return { uid: 0, gid: 0, flags: 0 };
    }
    return { uid: this.ctx[1]! >>> 0, gid: this.ctx[2]! >>> 0, flags: this.ctx[5]! };
  }

  private writable(): UnionWriter {
    if (!this.writer) throw new FsError(Errno.EROFS);
    return this.writer;
  }
}

/** Throw the negative errno a native call returned. */
function check(r: number): void {
  if (r < 0) throw new FsError(r);
}
