import { DirectorySnapshotter } from "@strata/core";

/**
 * The vfs snapshotter: every active snapshot is a full copy of its parent in a plain
 * directory (containerd's `naive` snapshotter, docker's `vfs` graph driver). It works on
 * any filesystem and needs no kernel support, at the price of disk space and copy time.
 *
 * It is core's {@link DirectorySnapshotter} as it comes (its comment gives the layout and
 * the rules): the same base a third-party copy-based driver extends, so what vfs passes
 * in the conformance kit, such a driver starts from.
 */
export class VfsSnapshotter extends DirectorySnapshotter {
  /**
   * Open (creating when needed) the vfs snapshotter rooted at `root`.
   * @throws Error when the root or its database cannot be created.
   */
  constructor(root: string) {
    super("vfs", root);
  }
}
