import type * as fs from "node:fs";
import type { UnionOperations } from "./union-ops.js";
import { errnoOf } from "./union-tree.js";

/** A stat as fuse-native hands it to libfuse: 18 uint32 fields (64-bit ones split). */
export function statArray(st: fs.Stats, ino: number, nlink: number): Uint32Array {
  const a = new Uint32Array(18);
  a[0] = st.mode;
  a[1] = st.uid;
  a[2] = st.gid;
  setDouble(a, 3, st.size);
  a[6] = nlink;
  a[7] = ino;
  a[8] = st.rdev;
  a[9] = st.blksize;
  setDouble(a, 10, st.blocks);
  setDouble(a, 12, Math.floor(st.atimeMs));
  setDouble(a, 14, Math.floor(st.mtimeMs));
  setDouble(a, 16, Math.floor(st.ctimeMs));
  return a;
}

function setDouble(a: Uint32Array, i: number, n: number): void {
  a[i] = n % 4294967296;
  a[i + 1] = Math.floor(n / 4294967296);
}

/** fuse-native's statfs fields. */
export interface StatfsAnswer {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  fsid: number;
  flag: number;
  namemax: number;
}

type Callback = (err: number, value?: unknown) => void;

/**
 * {@link UnionOperations} in fuse-native's shape: `op(...args, cb)`, answered with
 * `cb(-errno)` or `cb(0, value)`. A number answer below zero is an errno; file
 * descriptors and 0 are values.
 */
export function fuseNativeOps(u: UnionOperations): Record<string, (...args: never[]) => void> {
  const adapt =
    <A extends unknown[]>(fn: (...args: A) => unknown) =>
    (...args: [...A, Callback]): void => {
      const cb = args.pop() as Callback;
      let answer: unknown;
      try {
        answer = fn(...(args as unknown as A));
      } catch (err) {
        cb(errnoOf(err));
        return;
      }
      if (typeof answer === "number" && answer < 0) cb(answer);
      else cb(0, answer);
    };
  return {
    getattr: adapt((p: string) => u.getattr(p)),
    readdir: adapt((p: string) => u.readdir(p)),
    readlink: adapt((p: string) => u.readlink(p)),
    open: adapt((p: string, flags: number) => u.open(p, flags)),
    create: adapt((p: string, mode: number) => u.create(p, mode)),
    mkdir: adapt((p: string, mode: number) => u.mkdir(p, mode)),
    mknod: adapt((p: string, mode: number, dev: number) => u.mknod(p, mode, dev)),
    symlink: adapt((target: string, p: string) => u.symlink(target, p)),
    link: adapt((src: string, dst: string) => u.link(src, dst)),
    unlink: adapt((p: string) => u.unlink(p)),
    rmdir: adapt((p: string) => u.rmdir(p)),
    rename: adapt((src: string, dst: string) => u.rename(src, dst)),
    chmod: adapt((p: string, mode: number) => u.chmod(p, mode)),
    chown: adapt((p: string, uid: number, gid: number) => u.chown(p, uid, gid)),
    utimens: adapt((p: string) => u.utimens(p)),
    truncate: adapt((p: string, size: number) => u.truncate(p, size)),
    setxattr: adapt((p: string, name: string, value: Buffer, _pos: number, flags: number) =>
      u.setxattr(p, name, value, flags),
    ),
    removexattr: adapt((p: string, name: string) => u.removexattr(p, name)),
    getxattr: adapt((p: string, name: string) => u.getxattr(p, name)),
    listxattr: adapt((p: string) => u.listxattr(p)),
    statfs: adapt(() => u.statfs()),
  };
}
