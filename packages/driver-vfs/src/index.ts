/**
 * `@strata/driver-vfs`: the copy-based storage driver. Every snapshot is a full copy of its
 * parent in a plain directory; diffs come from core's naive differ.
 */

export { vfsDriver } from "./vfs-driver.js";
export { VfsSnapshotter } from "./vfs-snapshotter.js";
