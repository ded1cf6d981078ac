import { execFile } from "node:child_process";

/**
 * Copy directory `src` to `dst` (which must not exist) with everything a layer holds:
 * modes, owners, times, xattrs, hardlinks within the tree, symlinks, devices and fifos.
 * GNU `cp -a` does all of it in C; `--reflink=auto` shares extents where the filesystem
 * can (btrfs, XFS), and `--preserve=xattr` makes an xattr that cannot be copied an error.
 *
 * Hardlinks that leave the tree (a committed file shared with its parent) are not kept:
 * `cp` sees one name of the inode inside `src` and copies the file, which is exactly what
 * an active snapshot needs (its files must be its own).
 */
export function copyTree(src: string, dst: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const args = [
    "-a",
    "--preserve=xattr",
    "--reflink=auto",
    "--no-target-directory",
    "--",
    src,
    dst,
  ];
  return new Promise((resolve, reject) => {
    execFile("cp", args, { signal, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (signal?.aborted) return reject(signal.reason);
      if (err) {
        const msg = `cp ${args.join(" ")}: ${String(stderr).trim() || err.message}`;
        return reject(new Error(msg, { cause: err }));
      }
      resolve();
    });
  });
}
