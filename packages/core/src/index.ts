/**
 * `@strata/core`: contracts, errors, DI tokens and services shared by every strata package.
 * This barrel is the package's whole public surface (with `@strata/core/testing`).
 */

export * from "./archive/archive-format.js";
export type { LoadArchiveOptions, LoadedImage } from "./archive/archive-loader.js";
export type { LoadProgress } from "./archive/archive-spool.js";
export type { SaveEntry } from "./archive/archive-writer.js";
export * from "./archive/image-archiver.js";
export * from "./content/content-store.js";
export * from "./content/descriptor.js";
export * from "./content/digest.js";
export * from "./di.js";
export * from "./diff/apply-layer-tar.js";
export * from "./diff/differ.js";
export * from "./diff/layer-blob.js";
export * from "./diff/layer-change.js";
export * from "./diff/layer-compression.js";
export * from "./diff/naive-differ.js";
export * from "./diff/tree-guard.js";
export * from "./diff/walk-changes.js";
export * from "./diff/write-layer-tar.js";
export * from "./driver/driver-module.js";
export * from "./driver/select-driver.js";
export * from "./errors.js";
export * from "./image/config-changes.js";
export * from "./image/image-importer.js";
export * from "./image/image-inspect.js";
export * from "./image/image-store.js";
export * from "./image/image-types.js";
export * from "./image/layer-unpacker.js";
export * from "./image/media-types.js";
export * from "./image/reference.js";
export * from "./metadata/metadata-store.js";
export * from "./mount/mount.js";
export * from "./mount/mount-manager.js";
export * from "./snapshots/snapshot-meta-store.js";
export * from "./snapshots/snapshotter.js";
export * from "./store/store-service.js";
export * from "./tokens.js";
export * from "./util/byte-sink.js";
export * from "./util/device.js";
export * from "./util/exec.js";
export * from "./util/process.js";
export type { TarEntryType, TarHeader } from "./util/tar-header.js";
export { readTar, type TarEntry } from "./util/tar-reader.js";
export { TarWriter } from "./util/tar-writer.js";
export * from "./util/xattrs.js";
