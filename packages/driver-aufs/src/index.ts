/**
 * `@strata/driver-aufs`: AUFS-semantics union filesystem served over FUSE (fuse-native and
 * a small native helper), with a native differ that reads a snapshot's writable branch.
 */
export { aufsBranchChanges } from "./aufs-changes.js";
export { AufsDiffer } from "./aufs-differ.js";
export { aufsDriver } from "./aufs-driver.js";
export {
  AUFS_SERVER_PATH,
  AufsMountHandler,
  type AufsMountHandlerOptions,
  type HelperRecord,
  type HelperStatus,
} from "./aufs-mount-handler.js";
export {
  AUFS_MOUNT_TYPE,
  type AufsCacheOptions,
  type AufsMountSpec,
  aufsMount,
  DEFAULT_CACHE,
  fuseMountOptions,
  parseAufsMount,
} from "./aufs-mount-spec.js";
export { type AufsProbeResult, probeAufs } from "./aufs-probe.js";
export { AufsSnapshotter, type AufsSnapshotterOptions } from "./aufs-snapshotter.js";
export type { Branch } from "./union/union-tree.js";
