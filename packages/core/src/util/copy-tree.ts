import { execFile } from "node:child_process";

/**
 * Copy directory `src` to `dst` (which must not exist) with everything a layer holds:
 * modes, owners, times, xattrs (all namespaces the caller may read), hardlinks within the
 * tree, symlinks, device nodes, fifos and sockets.
 *
 * This runs GNU `cp -a`: it already does all of the above correctly and fast (in C, with
 * `copy_file_range` and reflinks where the filesystem has them), where a copy written in
 * JavaScript would need a native module for mknod and would be far slower on big trees.
 * `--preserve=xattr` is named explicitly so that an xattr that cannot be copied is an
 * error rather than silently dropped, as plain `-a` would do.
 *
 * @throws the signal's reason when `signal` aborts (cp is killed; `dst` may be partial).
 * @throws Error with cp's stderr when the copy fails.
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
