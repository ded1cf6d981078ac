/**
 * `@strata/core`: contracts, errors, DI tokens and services shared by every strata package.
 * This barrel is the package's whole public surface (with `@strata/core/testing`).
 */

export * from "./archive/archive-format.js";
export type { LoadArchiveOptions, LoadedImage } from "./archive/archive-loader.js";
export type { LoadProgress } from "./archive/archive-spool.js";
export type { SaveEntry } from "./archive/archive-writer.js";
export * from "./archive/image-archiver.js";
export * from "./build/build-cache.js";
export * from "./build/build-context.js";
export type * from "./build/build-types.js";
export * from "./build/build-workspace.js";
export * from "./build/builder.js";
export * from "./build/dockerignore.js";
export * from "./container/container-config.js";
export * from "./container/container-copy.js";
export * from "./container/container-filesystem.js";
export * from "./container/container-inspect.js";
export * from "./container/container-layout.js";
export * from "./container/container-names.js";
export * from "./container/container-runner.js";
export * from "./container/container-service.js";
export * from "./container/container-store.js";
export * from "./container/container-types.js";
export * from "./container/json-log.js";
export * from "./container/oci-spec.js";
export * from "./container/rootfs-lookup.js";
export * from "./container/runc.js";
export * from "./content/content-store.js";
export * from "./content/descriptor.js";
export * from "./content/digest.js";
export * from "./di.js";
export * from "./diff/apply-layer-tar.js";
export * from "./diff/differ.js";
export * from "./diff/layer-blob.js";
export * from "./diff/layer-change.js";
export * from "./diff/layer-compression.js";
export * from "./diff/list-changes.js";
export * from "./diff/naive-differ.js";
export * from "./diff/tree-guard.js";
export * from "./diff/walk-changes.js";
export * from "./diff/write-layer-tar.js";
export * from "./dockerfile/dockerfile-parser.js";
export type * from "./dockerfile/dockerfile-types.js";
export {
  createIgnoreMatcher,
  type IgnoreMatcher,
  parseDockerignore,
} from "./dockerfile/dockerignore.js";
export { parseGoDuration } from "./dockerfile/go-duration.js";
export { INSTRUCTION_KEYWORDS } from "./dockerfile/instruction-parser.js";
export {
  createShellWordExpander,
  expandHeredoc,
  ShellLexer,
  type ShellLexerOptions,
} from "./dockerfile/shell-word-expander.js";
export * from "./driver/driver-module.js";
export * from "./driver/probe-cache.js";
export * from "./driver/select-driver.js";
export * from "./errors.js";
export * from "./filters/filter-args.js";
export * from "./format/go-template.js";
export * from "./format/go-template-inspect.js";
export * from "./image/config-changes.js";
export * from "./image/image-importer.js";
export * from "./image/image-inspect.js";
export * from "./image/image-pruner.js";
export * from "./image/image-store.js";
export * from "./image/image-types.js";
export * from "./image/layer-unpacker.js";
export * from "./image/media-types.js";
export * from "./image/reference.js";
export * from "./metadata/metadata-store.js";
export * from "./mount/mount.js";
export * from "./mount/mount-manager.js";
export * from "./registry/credential-store.js";
export * from "./registry/error-response.js";
export * from "./registry/image-puller.js";
export * from "./registry/image-pusher.js";
export * from "./registry/platform-match.js";
export * from "./registry/progress.js";
export * from "./registry/registry-client.js";
export * from "./registry/registry-metadata.js";
export * from "./registry/registry-options.js";
export * from "./registry/registry-search.js";
export * from "./snapshots/directory-snapshotter.js";
export * from "./snapshots/directory-usage.js";
export * from "./snapshots/snapshot-meta-store.js";
export * from "./snapshots/snapshotter.js";
export * from "./snapshots/temp-snapshot-key.js";
export * from "./snapshots/verify-snapshot-dirs.js";
export * from "./store/container-pruner.js";
export * from "./store/disk-usage.js";
export * from "./store/store-check.js";
export * from "./store/store-service.js";
export * from "./tokens.js";
export * from "./util/byte-sink.js";
export * from "./util/copy-tree.js";
export * from "./util/crash-point.js";
export * from "./util/device.js";
export * from "./util/exec.js";
export * from "./util/process.js";
export type { TarEntryType, TarHeader } from "./util/tar-header.js";
export { readTar, type TarEntry } from "./util/tar-reader.js";
export { TarWriter } from "./util/tar-writer.js";
export * from "./util/xattrs.js";
