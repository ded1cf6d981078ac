import * as fs from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";

/**
 * The functions of the package's native helper (`native/aufs-native.c`, built by node-gyp
 * at install). Calls return 0 or a negative errno instead of throwing, as FUSE handlers
 * answer.
 */
export interface AufsNative {
  /**
   * Copy the identity of the process behind the current create, mkdir, mknod, symlink or
   * utimens request into `out`: `[active, uid, gid, pid, umask, openFlags]`. `active` is 0
   * outside those requests. Call it synchronously inside the handler.
   */
  requestContext(out: Int32Array): void;
  /** Apply the current utimens request's exact times (UTIME_NOW/OMIT included) to `path`. */
  utimensRequest(path: string): number;
  /** `utimensat(path, …, AT_SYMLINK_NOFOLLOW)` with nanosecond times. */
  utimens(
    path: string,
    atimeSec: number,
    atimeNsec: number,
    mtimeSec: number,
    mtimeNsec: number,
  ): number;
  /** `mknod(2)`. */
  mknod(path: string, mode: number, dev: number): number;
  /** `lgetxattr(2)`: the value, or a negative errno. */
  getxattr(path: string, name: string): Buffer | number;
  /** `llistxattr(2)`: NUL-terminated names, or a negative errno. */
  listxattr(path: string): Buffer | number;
  /** `lsetxattr(2)`. */
  setxattr(path: string, name: string, value: Buffer, flags: number): number;
  /** `lremovexattr(2)`. */
  removexattr(path: string, name: string): number;
  /** `umount2(2)`, lazily when `detach`. */
  umount(target: string, detach: boolean): number;
  /**
   * Drop the kernel's cached attributes of every name (kernel inode) showing inode number
   * `ino`: after a change through one name of a hardlinked file.
   * @returns how many kernel inodes were told.
   */
  invalidateIno(ino: number): number;
  /** Tell the data path that backing inode `backing` shows as `shown` (0: forget it). */
  setShownIno(backing: number, shown: number): void;
  /**
   * Answer the children's getattr and the readdir of union directory `p` from `branchDir`
   * on libfuse's threads (a directory that only that read-only branch holds).
   */
  passthroughDir(p: string, branchDir: string, writable: boolean): void;
  /** Stop answering `p` natively (with `tree`, everything below it too). */
  forgetPassthrough(p: string, tree: boolean): void;
  /** Whether the next mount serves file data natively (default true). */
  setDataPath(on: boolean): void;
  /** Whether fuse-native's `fuse_new` went through the helper (its wrappers are active). */
  interposed(): boolean;
}

/** Where node-gyp puts the helper, from `src/` and `dist/` alike. */
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL("../build/Release/aufs_native.node", import.meta.url),
);

let loaded: AufsNative | undefined;

/**
 * Load the native helper with `RTLD_GLOBAL`, so that its `fuse_new` comes before
 * libfuse's when fuse-native mounts. Only the FUSE server process loads it.
 * @throws Error when the helper was not built (`npm rebuild @strata/driver-aufs`).
 */
export function loadAufsNative(): AufsNative {
  if (loaded) return loaded;
  if (!fs.existsSync(NATIVE_ADDON_PATH)) {
    throw new Error(
      `aufs: the native helper ${NATIVE_ADDON_PATH} is not built (run "npm rebuild @strata/driver-aufs")`,
    );
  }
  const mod = { exports: {} as AufsNative };
  const { RTLD_NOW, RTLD_GLOBAL } = os.constants.dlopen as Record<string, number>;
  process.dlopen(mod, NATIVE_ADDON_PATH, (RTLD_NOW ?? 2) | (RTLD_GLOBAL ?? 0x100));
  loaded = mod.exports;
  return loaded;
}
